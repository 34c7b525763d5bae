"""Scene pages: the background/logo library (managers), the floor-line editor and the scene
preview images the export page's grid shows."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods

from catalog import roles, serving
from catalog.permissions import capability_required

from .. import variants
from ..errors import ExportError, PresetError, SceneError
from ..models import Background
from ..selectors import export as export_selectors
from ..selectors import jobs as job_selectors
from ..selectors import scenes as scene_selectors
from ..services import renditions as rendition_services
from ..services import scenes as scene_services


class BackgroundForm(forms.Form):
    name = forms.CharField(max_length=120)
    slug = forms.CharField(max_length=50, help_text="Used in specs: bg-<slug> or "
                                                    "logo-<slug>-<corner>.")
    kind = forms.ChoiceField(choices=Background.Kind.choices, initial=Background.Kind.BACKGROUND)
    image = forms.FileField(help_text="JPEG, PNG or WebP; a logo should be a transparent PNG.")


class FloorForm(forms.Form):
    floor_pct = forms.FloatField(min_value=0, max_value=100, label="Floor line (% from the top)")
    light_deg = forms.FloatField(min_value=0, max_value=360,
                                 label="Light from (degrees: 0 right, 90 top, 180 left)")


def _background(slug: str) -> Background:
    row = scene_selectors.background_get(slug=slug)
    if row is None:
        raise Http404("No such background.")
    return row


@capability_required(roles.EXPORT)
@require_http_methods(["GET", "POST"])
def background_list(request: HttpRequest) -> HttpResponse:
    form = BackgroundForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            row = scene_services.background_create(
                user=request.user, name=data["name"], slug=data["slug"], kind=data["kind"],
                data=data["image"].read())
        except SceneError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, f"{row.name} added as {row.kind} {row.slug!r}.")
            if row.kind == Background.Kind.BACKGROUND:
                return redirect("cutouts:background_edit", slug=row.slug)
            return redirect("cutouts:background_list")
    status = 400 if request.method == "POST" else 200
    return render(request, "cutouts/export/backgrounds.html", {
        "form": form, "backgrounds": scene_selectors.background_list()}, status=status)


@capability_required(roles.EXPORT)
@require_http_methods(["GET", "POST"])
def background_edit(request: HttpRequest, slug: str) -> HttpResponse:
    row = _background(slug)
    form = FloorForm(request.POST or None,
                     initial={"floor_pct": row.floor_pct, "light_deg": row.light_deg})
    if request.method == "POST" and form.is_valid():
        try:
            scene_services.background_update(background=row, **form.cleaned_data)
        except SceneError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, f"Saved the floor line of {row.name}.")
            return redirect("cutouts:background_edit", slug=row.slug)
    status = 400 if request.method == "POST" else 200
    return render(request, "cutouts/export/background_edit.html",
                  {"background": row, "form": form}, status=status)


@capability_required(roles.EXPORT)
@require_GET
def background_image(request: HttpRequest, slug: str) -> HttpResponseBase:
    # A library image may be replaced under the same slug: revalidate.
    return serving.private_file(name=_background(slug).image_name, cache=serving.REVALIDATE)


@capability_required(roles.REVIEW)
@require_GET
def scene_card(request: HttpRequest, cutout_id: int) -> HttpResponse:
    """The review card's Scene mode (loaded when the reviewer opens it): this cutout on each
    library background with a scene preset."""
    cutout = job_selectors.cutout_find(pk=cutout_id)
    if cutout is None:
        raise Http404("No such cutout.")
    preset = request.GET.get("preset") or "web_hero"
    if preset not in variants.SCENE_PRESETS:
        preset = "web_hero"
    return render(request, "cutouts/review/_scene_stage.html", {
        "cutout": cutout, "preset": preset, "presets": sorted(variants.SCENE_PRESETS),
        "backgrounds": scene_selectors.background_list(kind=Background.Kind.BACKGROUND)})


# Reviewers see scenes on the review card; rendering one is the cached rendition an export uses.
@capability_required(roles.REVIEW)
@require_GET
def scene_preview_image(request: HttpRequest, cutout_id: int, preset: str,
                        slug: str) -> HttpResponseBase:
    """One cell of the preview grid: the scene rendition (cached like any other)."""
    cutout = job_selectors.cutout_find(pk=cutout_id)
    if cutout is None:
        raise Http404("No such cutout.")
    try:
        resolved = export_selectors.preset_resolve(names=[f"{preset}:{slug}"])[0]
        rendition = rendition_services.rendition_get_or_create(cutout=cutout, preset=resolved)
    except (PresetError, ExportError) as exc:
        raise Http404(str(exc))
    return serving.private_file(name=rendition.file_name, content_type=f"image/{rendition.format}",
                                cache=serving.REVALIDATE)
