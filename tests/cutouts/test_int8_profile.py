import json

from cutouts.imaging.models import file_md5
from cutouts.services.batches import cutout_settings_resolve


def _install_int8(folder, passed):
    model = folder / "u2netp-int8.onnx"
    model.write_bytes(b"stand-in for the built model")
    (folder / "u2netp-int8.gate.json").write_text(
        json.dumps({"passed": passed, "int8_md5": file_md5(model)}))


def test_it_keeps_fast_on_fp32_while_the_int8_gate_failed(tmp_path, settings):
    settings.CUTROOM_MODEL_DIR = tmp_path
    settings.CUTROOM_MODEL = "u2netp"
    _install_int8(tmp_path, passed=False)
    assert cutout_settings_resolve(profile_name="fast")["model"] == "u2netp"


def test_it_moves_only_fast_to_int8_once_the_gate_passed(tmp_path, settings):
    settings.CUTROOM_MODEL_DIR = tmp_path
    settings.CUTROOM_MODEL = "u2netp"
    _install_int8(tmp_path, passed=True)
    assert cutout_settings_resolve(profile_name="fast")["model"] == "u2netp-int8"
    assert cutout_settings_resolve(profile_name="default")["model"] == "u2netp"
    # an explicit model choice always wins over the profile's preference
    assert cutout_settings_resolve(profile_name="fast", model="u2netp")["model"] == "u2netp"
