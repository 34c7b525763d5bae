"""Domain exceptions of the cutouts app: what a service refuses, caught by type by its callers."""

from __future__ import annotations


class CutoutsError(Exception):
    """Base of the cutouts app's domain errors; the message is meant for the user."""


class BatchError(CutoutsError):
    """A cutout batch cannot start: no images, or settings the engine refuses. ``field``
    names the setting at fault ("shadow", "profile", "model"; "" for an empty selection or
    the settings as a whole), so the API's 422 names it."""

    def __init__(self, message: str, *, field: str = ""):
        super().__init__(message)
        self.field = field


class BatchFinishedError(CutoutsError):
    """A batch action that needs queued or running work on a batch that already ended."""


class TransientError(CutoutsError):
    """Worth retrying: storage or broker hiccups, a locked database."""


class PermanentError(CutoutsError):
    """Retrying cannot help: corrupt working copy, model error."""


class WorkingCopyError(PermanentError):
    """The image's working copy is missing from storage or cannot be decoded: retrying fails
    alike until a manager rebuilds it from the original. The run stores the kind with the
    failure (``Cutout.working_copy_failed``), so the product page offers the rebuild whatever
    the message says."""


class NothingChangedError(CutoutsError):
    """A run whose result is its parent's picture pixel for pixel: no failure and nothing to
    retry, so the version ends cancelled and ``is_unchanged`` (``models.CUTOUT_UNCHANGED``),
    this message its ``error`` for people to read."""


class ReviewError(CutoutsError):
    """A reviewer action cannot be done on this version; the message says why."""


class ReviewInputError(ReviewError):
    """A reviewer action asked with values no version could accept (an unknown strength, a
    missing comment): bad input, not a conflict with the version's state. ``field`` names
    the input at fault ("" when the settings as a whole are refused)."""

    def __init__(self, message: str, *, field: str = ""):
        super().__init__(message)
        self.field = field


class StaleReviewError(ReviewError):
    """A decision made on a card drawn before someone else decided the version (or its
    image): refused, nothing changed; the message says who decided what and when."""


class ExportError(CutoutsError):
    """An export or rendition cannot be made; the message says why. ``field`` names the
    input at fault ("specs", "presets", "folder"; "" when the request as a whole is refused),
    so the API's 422 and the form's error name it."""

    def __init__(self, message: str, *, field: str = ""):
        super().__init__(message)
        self.field = field


class ExportFinishedError(CutoutsError):
    """Cancelling an export that already ended (done, failed or cancelled): nothing is left
    to cancel. A conflict with the job's state, like BatchFinishedError, not bad input."""


class ExportCollisionError(ExportError):
    """Planned file names would overwrite each other; nothing was written."""

    def __init__(self, collisions: list[str]):
        self.collisions = collisions
        super().__init__(f"{len(collisions)} naming collision(s): " + "; ".join(collisions[:5]))


class PresetError(CutoutsError):
    """A preset name or spec cannot be resolved into something to render."""


class SceneError(CutoutsError):
    """A library item cannot be stored or edited; the message says why."""


class TileError(CutoutsError):
    """A loupe tile cannot be cut: an unknown kind of image."""
