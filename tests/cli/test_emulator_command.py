"""``relaykit emulator``: a port in use, TLS files, listening beyond loopback."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from relaykit import _cli

pytestmark = pytest.mark.timeout(20)


@pytest.fixture
def busy_port() -> Iterator[int]:
    """A loopback port something else listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        yield sock.getsockname()[1]


def test_websocket_port_in_use(busy_port: int, capsys: pytest.CaptureFixture[str]) -> None:
    code = _cli.main(["emulator", "--port", str(busy_port), "--control-port", "0"])
    assert code == 2
    err = capsys.readouterr().err
    assert err == (
        f"relaykit emulator: port {busy_port} (--port) is already in use on 127.0.0.1: "
        "choose another with --port (0: any free port)\n"
    )


def test_default_control_port_follows(busy_port: int, capsys: pytest.CaptureFixture[str]) -> None:
    code = _cli.main(["emulator", "--port", str(busy_port)])
    assert code == 2
    assert "the control endpoint follows on --port + 1" in capsys.readouterr().err


def test_control_port_in_use(busy_port: int, capsys: pytest.CaptureFixture[str]) -> None:
    code = _cli.main(["emulator", "--port", "0", "--control-port", str(busy_port)])
    assert code == 2
    err = capsys.readouterr().err
    assert err.startswith(
        f"relaykit emulator: port {busy_port} (--control-port) is already in use on 127.0.0.1"
    )
    assert "-1: no control endpoint" in err
    assert err.count("\n") == 1
    assert "Traceback" not in err


@pytest.mark.parametrize("given", ["--tls-cert", "--tls-key"])
def test_tls_cert_and_key_go_together(given: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        _cli.main(["emulator", given, "x.pem"])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert "usage: relaykit emulator" in err
    assert "--tls-cert and --tls-key go together" in err


def test_tls_missing_file_is_named(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cert = tmp_path / "server.pem"
    cert.write_text("x")
    key = tmp_path / "missing.key"
    code = _cli.main(["emulator", "--port", "0", "--tls-cert", str(cert), "--tls-key", str(key)])
    assert code == 2
    assert capsys.readouterr().err == (
        f"relaykit emulator: cannot read --tls-key {key}: No such file or directory\n"
    )


def test_tls_bad_certificate_is_named(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cert, key = tmp_path / "server.pem", tmp_path / "server.key"
    cert.write_text("not a certificate")
    key.write_text("not a key")
    code = _cli.main(["emulator", "--port", "0", "--tls-cert", str(cert), "--tls-key", str(key)])
    assert code == 2
    err = capsys.readouterr().err
    assert err.startswith(f"relaykit emulator: cannot use --tls-cert {cert} with --tls-key {key}")


def test_tls_good_pair_passes_the_check(tmp_path: Path) -> None:
    trustme = pytest.importorskip("trustme")
    ca = trustme.CA()
    server = ca.issue_cert("127.0.0.1")
    cert, key = tmp_path / "server.pem", tmp_path / "server.key"
    server.private_key_and_cert_chain_pem.write_to_path(str(cert))
    server.private_key_pem.write_to_path(str(key))
    assert _cli._check_tls(str(cert), str(key)) is None


def test_port_out_of_range(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        _cli.main(["emulator", "--port", "70000"])
    assert "70000 is not a port" in capsys.readouterr().err


def test_banner_on_loopback() -> None:
    lines, warnings = _cli._banner("127.0.0.1", 8765, 8766, tls=False)
    assert warnings == []
    assert (
        lines[0] == "relaykit emulator: RELAY on ws://127.0.0.1:8765  (client host: 127.0.0.1:8765)"
    )
    assert "relaykit call --url http://127.0.0.1:8766 " in lines[1]


@pytest.mark.parametrize(("host", "shown"), [("0.0.0.0", "127.0.0.1"), ("::", "[::1]")])
def test_banner_on_all_interfaces(host: str, shown: str) -> None:
    lines, warnings = _cli._banner(host, 8765, 8766, tls=True)
    assert len(warnings) == 1
    assert f"listening on all interfaces ({host}), not only on loopback" in warnings[0]
    assert "--project/--token" in warnings[0]
    assert lines[0].startswith(f"relaykit emulator: RELAY on wss://{shown}:8765 ")
    assert f"--url http://{shown}:8766 " in lines[1]
    assert not any(f"{host}:" in line for line in lines)  # never a URL nobody can open


def test_banner_on_another_address() -> None:
    lines, warnings = _cli._banner("192.0.2.7", 8765, None, tls=False)
    assert "listening on 192.0.2.7, beyond loopback" in warnings[0]
    assert lines == [
        "relaykit emulator: RELAY on ws://192.0.2.7:8765  (client host: 192.0.2.7:8765)"
    ]
    assert _cli._banner("localhost", 1, None, tls=False)[1] == []
    assert _cli._banner("::1", 1, None, tls=False)[0][0].startswith(
        "relaykit emulator: RELAY on ws://[::1]:1 "
    )
