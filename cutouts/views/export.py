from typing import cast

from django import forms
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBase, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from catalog import roles, serving
from catalog.http import HtmxHttpRequest
from catalog.ids import id_from, page_from
from catalog.permissions import capability_required

from .. import variants
from ..errors import ExportCollisionError, ExportError, ExportFinishedError, PresetError
from ..models import Background, ExportJob
from ..selectors import export as export_selectors
from ..selectors import scenes as scene_selectors
from ..selectors.api import export_file_missing_reason
from ..services import export_jobs as export_services
from ..services import renditions as rendition_services

PREVIEW_PRODUCTS = 6
RECENT_EXPORTS_PAGE_SIZE = 50


class ExportForm(forms.Form):
    # Not required here: presets or custom specs, and the service says when neither is given.
    presets = forms.MultipleChoiceField(required=False, widget=forms.CheckboxSelectMultiple)
    specs = forms.CharField(
        label="Custom spec", required=False, widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Optional: one spec string per line, e.g. "
                  "trim|fill-85|square-1200|bg-ffffff|format-jpeg (trim and fill centre the "
                  "product; margin-N acts only with trim). Each gets its own spec-<hash> "
                  "folder, generic naming, no marketplace rules.")
    skus = forms.CharField(
        label="Products (SKUs)", required=False, widget=forms.Textarea(attrs={"rows": 3}),
        help_text="SKUs separated by spaces, tabs, new lines, commas or semicolons (a column "
                  "pasted from a spreadsheet works). Leave empty for all products.")
    brand = forms.ChoiceField(required=False)
    approved_since = forms.DateField(
        required=False, label="Approved since", widget=forms.DateInput(attrs={"type": "date"}))
    dry_run = forms.BooleanField(
        required=False, label="Dry run (manifest only: list what would be exported)")
    include_failing = forms.BooleanField(
        required=False, label="Include variants that fail compliance checks")
    destination = forms.ChoiceField(choices=ExportJob.Destination.choices,
                                    initial=ExportJob.Destination.DOWNLOAD)
    folder = forms.CharField(
        required=False, max_length=200,
        help_text="Destination 'folder' only: a folder inside export storage, e.g. "
                  "spring/amazon (no leading '/', no '..'). Empty: export-<id>-<time>.")
    backgrounds = forms.MultipleChoiceField(
        required=False, widget=forms.CheckboxSelectMultiple,
        help_text="Scene presets (web hero, social, ads) are rendered once per background.")

    def __init__(self, *args, preview: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        # a scene preview starts nothing: _preview says what it lacks, not clean()
        self.preview = preview
        presets = export_selectors.preset_list()
        cast(forms.ChoiceField, self.fields["presets"]).choices = [
            (p.name, p.label) for p in presets]
        cast(forms.ChoiceField, self.fields["brand"]).choices = [("", "All brands")] + [
            (b, b) for b in export_selectors.export_brands()]
        cast(forms.ChoiceField, self.fields["backgrounds"]).choices = [
            (b.slug, b.name) for b in scene_selectors.background_list(
                kind=Background.Kind.BACKGROUND)]
        self.product_ids: list[int] = []
        self.preset_cards = {p.name: export_selectors.preset_card(p) for p in presets}

    def preset_choices(self) -> list[tuple]:
        """(checkbox, PresetCard) pairs: the form shows each preset as a card with a preview."""
        return [(box, self.preset_cards.get(box.data["value"])) for box in self["presets"]]

    def preset_names(self) -> list[str]:
        """Chosen presets, each scene preset once per chosen background (``web_hero:oak``)."""
        names = []
        for name in self.cleaned_data["presets"]:
            if name in variants.SCENE_PRESETS and self.cleaned_data["backgrounds"]:
                names += [f"{name}:{slug}" for slug in self.cleaned_data["backgrounds"]]
            else:
                names.append(name)
        return names

    def spec_lines(self) -> list[str]:
        """The custom spec strings, one a line (blank lines skipped); the service parses them."""
        return [line.strip() for line in self.cleaned_data["specs"].splitlines()
                if line.strip()]

    def clean(self) -> dict:
        data = super().clean()
        assert data is not None  # Form.clean returns cleaned_data (the stubs allow None)
        if self.preview:
            return data
        # said on the form, before the naming warnings: an export of nothing would only be
        # refused by the service after them
        if "presets" in data and "specs" in data and not data["presets"] \
                and not data["specs"].strip():
            self.add_error("presets", export_services.NOTHING_TO_RENDER)
        if "folder" in data and "destination" in data:
            # the service's one validation (the API's too): refused here at the field
            try:
                data["folder"] = export_services.export_folder_clean(
                    folder=data["folder"], destination=data["destination"])
            except ExportError as exc:
                self.add_error("folder", str(exc))
        if "specs" in data:
            # said with the other fields' errors (an unknown SKU), not only once they are
            # fixed: the service would refuse the specs next
            try:
                export_services.export_specs_check(specs=self.spec_lines())
            except ExportError as exc:
                self.add_error("specs", str(exc))
        return data

    def clean_skus(self) -> str:
        text = self.cleaned_data["skus"]
        lookup = export_selectors.products_by_sku_text(texts=text)
        if lookup.problem:
            raise forms.ValidationError(lookup.problem)
        self.product_ids = lookup.product_ids
        return text


def _job_or_404(job_id: int) -> ExportJob:
    job = export_selectors.export_job_get(pk=job_id)
    if job is None:
        raise Http404("No such export.")
    return job


def _list_context(request: HttpRequest, form: ExportForm, collisions: list[str] | None = None,
                  preview: dict | None = None,
                  precheck_warnings: list[str] | None = None, precheck_advice: str = "",
                  preselected: dict | None = None) -> dict:
    """The form and one page of recent exports (GET before= / after= for older / newer)."""
    before, after = id_from(request.GET.get("before")), id_from(
        request.GET.get("after"))
    page = export_selectors.export_job_page(before=before, after=after,
                                            size=RECENT_EXPORTS_PAGE_SIZE)
    # each job beside its presets' labels, read for the whole page at once
    rows = list(zip(page.items, export_selectors.export_jobs_preset_labels(jobs=page.items),
                    strict=True))
    return {"form": form, "jobs": rows, "page": page, "paged": bool(before or after),
            "collisions": collisions or [], "preview": preview,
            "precheck_warnings": precheck_warnings or [], "precheck_advice": precheck_advice,
            "preselected": preselected}


def _preselected(form: ExportForm, last: export_selectors.ExportChoice) -> dict | None:
    """What the form ticked for the user from their last export, in words: said beside the
    presets with a way to clear it (export 2 once rendered eBay and Walmart again because
    nobody noticed they were ticked). None when nothing was."""
    if last.job_id is None:
        return None
    # Django normalizes choices to a list of pairs; the stubs type the getter as the setter's
    # input (a mapping, a callable, ...)
    labels = dict(cast(forms.ChoiceField, form.fields["presets"]).choices)  # type: ignore[arg-type]
    names = dict(cast(forms.ChoiceField, form.fields["backgrounds"]).choices)  # type: ignore[arg-type]
    parts = [", ".join(str(labels.get(p, p)) for p in last.presets)] if last.presets else []
    if last.backgrounds:
        parts.append("backgrounds " + ", ".join(str(names.get(b, b)) for b in last.backgrounds))
    if last.specs:
        parts.append(f"{len(last.specs)} custom spec(s)")
    return {"job_id": last.job_id, "text": "; ".join(parts)} if parts else None


def _precheck_warnings(form: ExportForm
                       ) -> tuple[list[export_selectors.ExportWarning], dict[str, str]]:
    """The form's pre-check warnings, shown before anything starts with "Export anyway"
    (``precheck_ok``): what the chosen presets cannot name among the chosen products
    (Walmart: no GTIN), the chosen products' images that are not approved or have a newer
    version, spec tokens that will not act (a margin without trim), custom specs included,
    and per preset the images too small for it, enlarged past 2x, cut by the photo's edge,
    with faint marks, or whose ``shadow-synthetic`` (a scene's ``shadow-contact``) shadow would
    lie under a stray part as that render places it, or whose kept synthetic shadow does
    (``shadow-keep``)
    (``export_selectors.export_warnings``); presets and specs the service will refuse are its
    to report. (Named "naming gaps" until 2026-12-07, when they were the first kind only;
    their type ``ExportWarning``, ``NamingGap`` until lows44 the same day.) With them, the
    presets' labels by name, which ``export_selectors.precheck_lines`` groups presets by."""
    data = form.cleaned_data
    try:
        presets = export_selectors.preset_resolve(names=[
            *form.preset_names(),
            *(export_selectors.SPEC_PREFIX + spec for spec in form.spec_lines())])
    except (PresetError, ExportError, variants.VariantError):
        return [], {}
    filters = {"product_ids": form.product_ids, "brand": data["brand"],
               "approved_since": data["approved_since"]}
    # the images themselves included, per preset: too small for it, cut by the photo's edge
    # (said here, before the job refuses them or ships a straight cut "ok (warnings)")
    return (export_selectors.export_warnings(presets=presets, **filters),
            {preset.name: preset.label for preset in presets})


def _preview(form: ExportForm) -> dict:
    """The scene preview grid: the first products x the chosen backgrounds, for the first
    chosen scene preset. Each cell is an image URL; nothing renders until it is requested."""
    data = form.cleaned_data
    scenes = [n for n in data["presets"] if n in variants.SCENE_PRESETS]
    if not scenes or not data["backgrounds"]:
        return {"error": "Pick a scene preset (web hero, social, ad, story, Pinterest) and at "
                         "least one background to preview scenes."}
    rows = scene_selectors.scene_preview_rows(
        product_ids=form.product_ids, brand=data["brand"], limit=PREVIEW_PRODUCTS)
    # a row is an image, and a product has several: "6 product(s)" for 6 images of 2 misled
    return {"preset": scenes[0], "others": scenes[1:], "backgrounds": data["backgrounds"],
            "rows": rows, "products": len({row["sku"] for row in rows})}


def _preview_page(request: HttpRequest, data) -> HttpResponse:
    form = ExportForm(data, preview=True)
    if not form.is_valid():
        return render(request, "cutouts/export/list.html", _list_context(request, form),
                      status=400)
    return render(request, "cutouts/export/list.html",
                  _list_context(request, form, preview=_preview(form)))


@capability_required(roles.EXPORT)
@require_GET
def export_list(request: HttpRequest) -> HttpResponse:
    if request.GET.get("preview"):  # a shared link to a preview
        return _preview_page(request, request.GET)
    # what this user rendered last time, or nothing: a preset ticked by default was
    # rendered along with a custom spec nobody asked it for
    # (said beside the presets, "Pre-selected: …", with a link that opens the form empty)
    last = (export_selectors.ExportChoice(presets=[], backgrounds=[], specs=[])
            if request.GET.get("fresh") else
            export_selectors.export_last_choice(user=request.user))
    initial: dict = {"presets": last.presets, "backgrounds": last.backgrounds,
                     "specs": "\n".join(last.specs)}
    if request.GET.get("sku"):
        initial["skus"] = "\n".join(request.GET.getlist("sku"))
    form = ExportForm(initial=initial)
    preselected = _preselected(form, last)
    if preselected is not None:
        query = QueryDict(mutable=True)
        query.setlist("sku", request.GET.getlist("sku"))
        query["fresh"] = "1"
        preselected["clear_url"] = f"{reverse('cutouts:export_list')}?{query.urlencode()}"
    return render(request, "cutouts/export/list.html",
                  _list_context(request, form, preselected=preselected))


@capability_required(roles.EXPORT)
@require_http_methods(["GET", "POST"])
def export_start(request: HttpRequest) -> HttpResponse:
    if request.method == "GET":
        # A bookmarked or reloaded form address (it used to be a bare 405): the form and
        # the recent exports are on the list page, with the query (e.g. ?sku=) kept.
        url = reverse("cutouts:export_list")
        query = request.GET.urlencode()
        return redirect(f"{url}?{query}" if query else url)
    if request.POST.get("preview"):
        # the form's "Preview scenes" button: posted, so the CSRF token stays out of URLs,
        # history and access logs (it used to submit the form with GET)
        return _preview_page(request, request.POST)
    form = ExportForm(request.POST)
    if not form.is_valid():
        return render(request, "cutouts/export/list.html", _list_context(request, form),
                      status=400)
    data = form.cleaned_data
    inputs = {"presets": form.preset_names(), "specs": form.spec_lines(),
              "product_ids": form.product_ids, "brand": data["brand"],
              "approved_since": data["approved_since"], "destination": data["destination"],
              "folder": data["folder"]}
    try:
        # said before anything starts, not found excluded image by image afterwards; the
        # form comes back with an "Export anyway" button. A dry run writes nothing: it is the
        # preview of what the gate warns of, so it goes straight through and says the
        # warnings after (QA 2026-12-06: a dry run stopped at "Nothing has started")
        warned, labels = (([], {}) if request.POST.get("precheck_ok")
                          else _precheck_warnings(form))
        if warned and not data["dry_run"]:
            # refusals first: "Start anyway" for an export that cannot start (nothing
            # approved, a collision) only led to the refusal one click later
            export_services.export_job_check(include_failing=data["include_failing"],
                                             **inputs)
            advice = export_selectors.export_warnings_advice(
                warnings=warned, product_ids=form.product_ids,
                approved_since=data["approved_since"])
            return render(request, "cutouts/export/list.html",
                          _list_context(request, form,
                                        precheck_warnings=export_selectors.precheck_lines(
                                            warned, labels),
                                        precheck_advice=advice))
        job = export_services.export_job_create(
            user=request.user, dry_run=data["dry_run"],
            include_failing=data["include_failing"],
            origin=export_selectors.ORIGIN_FORM, **inputs)
    except ExportCollisionError as exc:
        form.add_error(None, "File names would collide; nothing was started. Fix the SKUs, "
                             "ASINs, GTINs or image positions below, or change the naming.")
        return render(request, "cutouts/export/list.html",
                      _list_context(request, form, exc.collisions), status=400)
    except ExportError as exc:
        # the service names the field at fault (specs, presets, folder): show it there
        form.add_error(exc.field if exc.field in form.fields else None, str(exc))
        return render(request, "cutouts/export/list.html", _list_context(request, form),
                      status=400)
    # the presets named: a preset ticked from the last export is seen once more here
    # (normalized choices: see _preselected)
    chosen = dict(cast(forms.ChoiceField, form.fields["presets"]).choices)  # type: ignore[arg-type]
    rendered = ", ".join(dict.fromkeys(
        [str(chosen.get(p, p)) for p in data["presets"]]
        + [f"custom spec {s}" for s in form.spec_lines()]))
    messages.success(request, f"{'Dry run' if job.dry_run else 'Export'} {job.pk} queued: "
                              f"{job.progress_total} file(s) planned for {rendered}.")
    if job.dry_run and warned:
        messages.warning(request, "A real export would stop first to warn of: "
                                  + " ".join(g.message for g in warned))
    note = export_services.export_folder_note(asked=request.POST.get("folder", ""),
                                              used=job.folder)
    if note:
        messages.warning(request, note)
    return redirect("cutouts:export_detail", job_id=job.pk)


@capability_required(roles.EXPORT)
@require_GET
def export_detail(request: HtmxHttpRequest, job_id: int) -> HttpResponse:
    job = _job_or_404(job_id)
    progress = export_selectors.export_job_progress(job=job)
    if request.htmx:
        response = render(request, "cutouts/export/_progress.html", {"progress": progress})
        if not progress.is_active:
            # Finished while the page polled: reload it to show results and the download.
            response["HX-Refresh"] = "true"
        return response
    sheet = export_selectors.export_job_sheet(job=job, page=page_from(request.GET.get("page")))
    return render(request, "cutouts/export/detail.html", {
        "job": job, "progress": progress, "sheet": sheet,
        "specs": export_selectors.export_job_specs(job=job),
        "preset_labels": export_selectors.export_job_preset_labels(job=job),
        "preset_results": export_selectors.export_job_presets(job=job),
    })


@capability_required(roles.EXPORT)
@require_GET
def export_thumbnail(request: HttpRequest, job_id: int, sha256: str) -> HttpResponseBase:
    """A contact-sheet thumbnail of a variant, by the sha256 its manifest row lists."""
    _job_or_404(job_id)
    if not export_selectors.is_sha256(sha256):
        raise Http404("No such variant.")
    name = rendition_services.rendition_thumbnail(sha256=sha256)
    if name is None:
        raise Http404("No such variant.")
    return serving.private_file(name=name, content_type="image/webp", cache=serving.IMMUTABLE)


@capability_required(roles.EXPORT)
@require_POST
def export_cancel(request: HttpRequest, job_id: int) -> HttpResponse:
    job = _job_or_404(job_id)
    try:
        export_services.export_job_cancel(job=job)
        messages.success(request, f"Export {job.pk} cancelled.")
    except ExportFinishedError as exc:
        # A stale page (the export ended since it was drawn), or a double click.
        messages.error(request, str(exc))
    return redirect("cutouts:export_detail", job_id=job.pk)


@capability_required(roles.EXPORT)
@require_GET
def export_download(request: HttpRequest, job_id: int) -> HttpResponseBase:
    """The ZIP (or ``?file=manifest``) as a download, served by the private-file policy."""
    wanted = "manifest" if request.GET.get("file") == "manifest" else "zip"
    job = _job_or_404(job_id)
    file = export_selectors.export_job_file(job=job, file=wanted)
    if file is None:
        raise Http404(export_file_missing_reason(job=job, file=wanted))
    return serving.private_file(alias="exports", name=file.name, filename=file.filename,
                                content_type=file.content_type, cache=serving.REVALIDATE)
