"""HTTPS: ``jifen-server serve --cert --key`` serves TLS; a kiosk enrolled over https pins
the server's certificate (or the CA given with ``--ca``) and refuses any other; plain
http to a machine other than this one is refused unless the operator says
``--insecure-http``. Certificates are made here with ``cryptography``."""

import datetime
import ipaddress
import os
import signal
import ssl
import subprocess
import time
from pathlib import Path

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from kiosk import settings as kiosk_settings
from kiosk.service import KioskService
from kiosk.errors import InsecureServer
from tests.e2e.conftest import BIN, free_port


def _name(cn: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def make_cert(directory: Path, name: str, issuer: tuple | None = None, ca: bool = False) -> tuple[Path, Path, object, object]:
    """(cert file, key file, cert, key): self-signed, or signed by ``issuer`` (cert, key)."""
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.datetime.now(datetime.timezone.utc)
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(name))
        .issuer_name(issuer[0].subject if issuer else _name(name))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(hours=1))
        .not_valid_after(now + datetime.timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )
    if not ca:
        builder = builder.add_extension(
            x509.SubjectAlternativeName([x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
    cert = builder.sign(issuer[1] if issuer else key, hashes.SHA256())
    cert_file, key_file = directory / f"{name}.crt", directory / f"{name}.key"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    return cert_file, key_file, cert, key


class TlsServer:
    def __init__(self, data: Path):
        self.data = data
        self.port = free_port()
        self.url = f"https://127.0.0.1:{self.port}"
        self.proc = None

    def start(self, cert: Path, key: Path, ca: Path | None = None) -> "TlsServer":
        self.proc = subprocess.Popen([str(BIN / "jifen-server"), "serve", "--data", str(self.data), "--port", str(self.port),
                                      "--cert", str(cert), "--key", str(key)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:  # the test's own check trusts the cert (or CA) the server was started with
                if httpx.get(self.url + "/v1/health", verify=ssl.create_default_context(cafile=str(ca or cert)), timeout=0.5).status_code == 200:
                    return self
            except (httpx.TransportError, OSError):
                time.sleep(0.05)
        raise AssertionError("TLS server did not come up")

    def stop(self) -> None:
        if self.proc:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(3)  # uvicorn waits for open keep-alive connections
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
            self.proc = None

    def enroll_code(self) -> str:
        out = subprocess.run([str(BIN / "jifen-server"), "enroll-code", "--shop", "S01", "--data", str(self.data), "--json"],
                             capture_output=True, text=True, check=True)
        return __import__("json").loads(out.stdout)["code"]


@pytest.fixture
def tls_server(server_dir):
    s = TlsServer(server_dir)
    yield s
    s.stop()


def kiosk_at(path: Path) -> KioskService:
    return KioskService(kiosk_settings.load(path, lang="en", timeout=3.0))


def test_a_kiosk_pins_the_server_certificate_and_refuses_another(tls_server, tmp_path):
    cert, key, *_ = make_cert(tmp_path, "server")
    tls_server.start(cert, key)
    k = kiosk_at(tmp_path / "k")
    k.enroll(tls_server.url, tls_server.enroll_code())
    assert k.sync().ok
    card = k.store._one("SELECT card FROM residents ORDER BY card")["card"]
    k.award(card, "ZYFW", "op1")

    tls_server.stop()  # someone in the middle, or a swapped server, with another certificate
    other_cert, other_key, *_ = make_cert(tmp_path, "impostor")
    tls_server.start(other_cert, other_key)
    result = k.sync()
    assert (result.ok, result.problem) == (False, "offline")
    assert "CERTIFICATE_VERIFY_FAILED" in result.detail["why"] or "certificate" in result.detail["why"].lower()
    assert k.status()["pending_events"] == 1  # kept, not sent

    tls_server.stop()
    tls_server.start(cert, key)
    assert k.sync().ok and k.status()["pending_events"] == 0
    k.close()


def test_a_kiosk_given_a_ca_trusts_what_it_signed_and_nothing_else(tls_server, tmp_path):
    ca_file, _, ca_cert, ca_key = make_cert(tmp_path, "programme-ca", ca=True)
    cert, key, *_ = make_cert(tmp_path, "server", issuer=(ca_cert, ca_key))
    tls_server.start(cert, key, ca=ca_file)
    k = subprocess.run([str(BIN / "jifen-kiosk"), "enroll", "--server", tls_server.url, "--code", tls_server.enroll_code(),
                        "--ca", str(ca_file), "--data", str(tmp_path / "k"), "--json"], capture_output=True, text=True)
    assert k.returncode == 0, k.stdout + k.stderr
    svc = kiosk_at(tmp_path / "k")
    assert svc.sync().ok

    tls_server.stop()
    rogue_ca = make_cert(tmp_path, "rogue-ca", ca=True)
    rogue_cert, rogue_key, *_ = make_cert(tmp_path, "rogue", issuer=(rogue_ca[2], rogue_ca[3]))
    tls_server.start(rogue_cert, rogue_key, ca=rogue_ca[0])
    result = svc.sync()
    assert (result.ok, result.problem) == (False, "offline")
    svc.close()


def test_plain_http_to_another_machine_needs_explicit_consent(tmp_path):
    env = dict(os.environ, JIFEN_LANG="en")
    refused = subprocess.run([str(BIN / "jifen-kiosk"), "enroll", "--server", "http://central.invalid:8470",
                              "--code", "ABCD-EFGH-JKLM", "--data", str(tmp_path / "k")], capture_output=True, text=True, env=env)
    assert refused.returncode == 1 and "--insecure-http" in refused.stderr
    assert not (tmp_path / "k" / "kiosk.key").exists()  # refused before anything was made or sent
    allowed = subprocess.run([str(BIN / "jifen-kiosk"), "enroll", "--server", "http://central.invalid:8470", "--insecure-http",
                              "--code", "ABCD-EFGH-JKLM", "--data", str(tmp_path / "k2")], capture_output=True, text=True, env=env)
    assert allowed.returncode == 3  # allowed to try: the name simply does not resolve (offline)


def test_an_enrolled_kiosk_pointed_at_plain_http_elsewhere_refuses_to_sync(tls_server, tmp_path):
    cert, key, *_ = make_cert(tmp_path, "server")
    tls_server.start(cert, key)
    k = kiosk_at(tmp_path / "k")
    k.enroll(tls_server.url, tls_server.enroll_code())
    k.store.set_meta(server_url="http://central.invalid:8470")  # an edited configuration
    with pytest.raises(InsecureServer):
        k.sync()
    k.close()


def test_loopback_http_needs_no_consent(tmp_path, server_dir):
    from tests.e2e.conftest import ServerProcess

    srv = ServerProcess(server_dir, free_port()).start()
    try:
        k = kiosk_at(tmp_path / "k")
        k.enroll(srv.url, srv.enroll_code())
        assert k.sync().ok
        k.close()
    finally:
        srv.stop()
