"""Constructor arguments, environment fallbacks and host/URL validation (no server needed)."""

from __future__ import annotations

from typing import Any

import pytest

import relay_anyio
from relaykit import client as api
from relaykit.client._config import resolve_config

pytestmark = pytest.mark.timeout(10)


@pytest.fixture
def Client() -> Any:
    return relay_anyio.RelayClient


def test_unbound_client_is_rejected() -> None:
    with pytest.raises(TypeError, match="not bound"):
        api.RelayClient(project="p", token="t")


def test_env_fallbacks(Client: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SIGNALWIRE_PROJECT_ID", "env-project")
    monkeypatch.setenv("SIGNALWIRE_API_TOKEN", "env-token")
    monkeypatch.setenv("SIGNALWIRE_SPACE", "example.signalwire.com")
    monkeypatch.setenv("RELAY_MAX_ACTIVE_CALLS", "7")
    client = Client(contexts=["default"])
    assert client.project == "env-project"
    assert client.token == "env-token"
    assert client.host == "example.signalwire.com"
    assert client.url == "wss://example.signalwire.com"
    assert client.contexts == ["default"]
    assert client.relay_protocol == ""
    assert client._config.max_active_calls == 7
    # Arguments win over the environment.
    other = Client(project="arg", token="tok", host="other.example.com:8443", max_active_calls=3)
    assert (other.project, other.host, other._config.port) == (
        "arg",
        "other.example.com:8443",
        8443,
    )
    assert other._config.max_active_calls == 3


def test_default_host_and_jwt(Client: Any) -> None:
    client = Client(jwt_token="a.b.c")
    assert client.host == "relay.signalwire.com"
    assert client.jwt_token == "a.b.c"
    assert client.project == ""
    assert client._config.max_active_calls == 1000


@pytest.mark.parametrize(
    ("kwargs", "variable"),
    [({"token": "t"}, "SIGNALWIRE_PROJECT_ID"), ({"project": "p"}, "SIGNALWIRE_API_TOKEN")],
)
def test_missing_credentials_name_the_variable(
    Client: Any, kwargs: dict[str, str], variable: str
) -> None:
    with pytest.raises(ValueError, match=variable):
        Client(**kwargs)


@pytest.mark.parametrize(
    "host",
    ["evil.com/path", "user@evil.com", "a b.com", "bad\r\nhost", "x\x00y", "h:99999", "h:abc"],
)
def test_bad_hosts_are_rejected(Client: Any, host: str) -> None:
    with pytest.raises(ValueError, match=r"(?i)host"):
        Client(project="p", token="t", host=host)


def test_url_selects_ws_or_wss(Client: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    client = Client(project="p", token="t", url="ws://127.0.0.1:8765")
    cfg = client._config
    assert (cfg.tls, cfg.hostname, cfg.port, cfg.host) == (
        False,
        "127.0.0.1",
        8765,
        "127.0.0.1:8765",
    )
    # The environment URL applies only when the program names no endpoint.
    monkeypatch.setenv("SIGNALWIRE_RELAY_URL", "wss://[::1]:9443")
    client = Client(project="p", token="t")
    assert (client._config.tls, client._config.hostname, client._config.port) == (True, "::1", 9443)
    for bad in ("http://example.com", "ws://user@host", "ws://host/?q=1"):
        with pytest.raises(ValueError, match="Invalid url"):
            Client(project="p", token="t", url=bad)


def test_bad_numbers(Client: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RELAY_MAX_ACTIVE_CALLS", "many")
    with pytest.raises(ValueError, match="RELAY_MAX_ACTIVE_CALLS"):
        Client(project="p", token="t")
    monkeypatch.delenv("RELAY_MAX_ACTIVE_CALLS")
    with pytest.raises(ValueError, match="request_timeout"):
        Client(project="p", token="t", request_timeout=0)
    with pytest.raises(TypeError, match="contexts"):
        Client(project="p", token="t", contexts="default")


def test_ca_file_from_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> None:
    import trustme

    ca_file = tmp_path / "ca.pem"
    trustme.CA().cert_pem.write_to_path(str(ca_file))
    monkeypatch.setenv("SIGNALWIRE_RELAY_CA_FILE", str(ca_file))
    cfg = resolve_config(
        project="p",
        token="t",
        jwt_token=None,
        host=None,
        contexts=None,
        max_active_calls=None,
        url=None,
    )
    assert cfg.ca_file == str(ca_file)
    # A file that is missing (or holds no certificate) fails at construction,
    # naming the variable, instead of on every reconnect attempt.
    for bad in (tmp_path / "missing.pem", tmp_path):
        monkeypatch.setenv("SIGNALWIRE_RELAY_CA_FILE", str(bad))
        with pytest.raises(ValueError, match="SIGNALWIRE_RELAY_CA_FILE"):
            relay_anyio.RelayClient(project="p", token="t")


def test_repr_never_shows_credentials(Client: Any) -> None:
    client = Client(project="p", token="secret-token-value")
    assert "secret-token-value" not in repr(client)
    assert "secret-token-value" not in repr(client._config)


def test_media_flat_and_nested() -> None:
    from relaykit.client._media import to_wire_media

    nested = {"type": "tts", "params": {"text": "x"}}
    assert to_wire_media([{"type": "tts", "text": "Hello", "voice": "v"}, nested]) == [
        {"type": "tts", "params": {"text": "Hello", "voice": "v"}},
        nested,
    ]
    assert to_wire_media([nested])[0] is nested  # passed through, not copied
    with pytest.raises(TypeError):
        to_wire_media({"type": "tts", "text": "x"})  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        to_wire_media([{"type": "tts", "params": "oops"}])


def test_official_names_exported(adapter: Any) -> None:
    """Everything a signalwire.relay program imports is importable from the adapter."""
    import signalwire.relay as official

    for name in official.__all__:
        assert hasattr(api, name), name
        assert getattr(adapter, name) is getattr(api, name) or name == "RelayClient", name
    assert issubclass(adapter.RelayClient, api.RelayClient)
    assert adapter.CallStateEvent is adapter.CallStateChanged
    assert adapter.PlayEvent is adapter.PlayStateChanged
