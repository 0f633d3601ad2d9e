"""The request builders accept every shape the seed docs use and refuse the rest by name."""

from __future__ import annotations

import pytest

from relaykit.client import _commands as build

pytestmark = pytest.mark.timeout(10)

PHONE = {"type": "phone", "params": {"to_number": "+15559876543", "from_number": "+15551234567"}}


def test_seed_shapes_are_accepted() -> None:
    serial = [[PHONE], [{**PHONE, "params": {**PHONE["params"], "timeout": 30}}]]
    assert build.dial("t", serial, None)["devices"] == serial
    assert build.dial("t", [[PHONE, PHONE]], 5)["max_duration"] == 5
    play = build.play("c", [{"type": "tts", "text": "Press 1 for sales, 2 for support."}])
    assert play["play"] == [
        {"type": "tts", "params": {"text": "Press 1 for sales, 2 for support."}}
    ]
    collect = {"digits": {"max": 10, "digit_timeout": 3.0, "terminators": "#"}}
    media = [{"type": "tts", "text": "Enter your account number."}]
    assert build.play_and_collect("c", media, collect)["collect"] == collect
    options = {"digits": {"max": 4, "digit_timeout": 5.0}, "speech": {"end_silence_timeout": 2.0}}
    assert build.collect("c", options, {})["speech"] == {"end_silence_timeout": 2.0}
    ringback = build.connect(
        [[PHONE]],
        ringback=[{"type": "ringtone", "name": "us"}],
        tag=None,
        max_duration=None,
        max_price_per_minute=None,
        status_url=None,
        extra={},
    )["ringback"]
    assert ringback == [{"type": "ringtone", "params": {"name": "us"}}]
    sms = build.send_message(
        context="c",
        to_number="+15552222222",
        from_number="+15551111111",
        body=None,
        media=["https://example.com/photo.jpg"],
        tags=None,
        region=None,
    )
    assert sms["media"] == ["https://example.com/photo.jpg"]


@pytest.mark.parametrize("value", ["abc", b"abc", None, 5, {"a": 1}])
def test_string_list_refuses_non_lists_by_name(value: object) -> None:
    with pytest.raises(TypeError, match="tags"):
        build.string_list("tags", value)


def test_string_list_names_the_bad_item() -> None:
    with pytest.raises(ValueError, match=r"media\[1\]"):
        build.string_list("media", ["https://a", ""])


@pytest.mark.parametrize("bad", ["5", True, None, [], -1.0, float("nan")])
def test_check_timeout(bad: object) -> None:
    if bad is None:
        assert build.check_timeout("timeout", bad) is None
        return
    with pytest.raises((TypeError, ValueError), match="timeout"):
        build.check_timeout("timeout", bad)
