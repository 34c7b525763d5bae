from __future__ import annotations

import json

import pytest

from cutouts.imaging.settings import PROFILES, CutoutSettings, SyntheticShadow, profile


def test_it_round_trips_settings_through_json():
    s = CutoutSettings(shadow="synthetic", synthetic_shadow=SyntheticShadow(drop=True),
                       edge_gain=2.5)
    back = CutoutSettings.from_dict(json.loads(json.dumps(s.to_dict())))
    assert back == s


@pytest.mark.parametrize("bad, message", [
    ({"colour": "red"}, "unknown setting"),
    ({"shadow": "dramatic"}, "shadow must be one of none, keep, synthetic; got 'dramatic'"),
    ({"model": "sam"}, "model must be one of"),
    ({"edge_threshold": 1.5}, "edge_threshold"),
    ({"tta_flip": "yes"}, "tta_flip must be true or false"),
    ({"edge_gain": True}, "edge_gain"),
    ({"tile_size": 10}, "tile_size"),
    ({"synthetic_shadow": {"opacity": 1}}, "unknown synthetic_shadow"),
    ({"synthetic_shadow": {"drop_opacity": 2.0}}, "drop_opacity"),
])
def test_it_rejects_bad_settings_with_a_clear_message(bad, message):
    with pytest.raises(ValueError, match=message):
        CutoutSettings.from_dict(bad)


def test_it_accepts_json_integers_for_floats():
    assert CutoutSettings.from_dict({"edge_gain": 3}).edge_gain == 3.0


def test_it_names_the_quality_profiles():
    assert set(PROFILES) == {"fast", "default", "soft"}
    fast = profile("fast")
    assert not fast.tta_flip and not fast.crop_pass  # one model pass
    assert profile("default").tta_flip and profile("default").crop_pass
    assert profile("fast", shadow="keep").shadow == "keep"
    with pytest.raises(ValueError, match="unknown profile"):
        profile("ultra")
