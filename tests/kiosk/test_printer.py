"""Receipts on an ESC/POS thermal printer (kiosk.printer): the bytes python-escpos's Dummy
printer receives (reset, GB18030 text in Chinese mode, QR, cut); a real TCP printer
endpoint that takes them, says it is out of paper, or is not there; and the record is
never lost when the printer fails."""

import socket
import threading

import pytest
from escpos.constants import PAPER_FULL_CUT, RT_STATUS_PAPER
from escpos.printer import Dummy

from kiosk import printer, receipts
from kiosk.errors import InvalidInput, PrinterFailed
from tests.kiosk.fakeserver import CARD

#: a receipt whose every field is known
RECEIPT = receipts.Receipt(kind="award", event_id="K0001-7", at=1_764_000_000_000, kiosk="K0001",
                           shop_name="幸福社区兑换站", operator="op1", resident=CARD, resident_name="张三明",
                           lines=[receipts.Line("V01 志愿服务", 1, 10)], before=100, after=110)
#: the paper sensor's answers (DLE EOT 4): bits 2-3 and 5-6 set means no paper
PAPER_OK, PAPER_OUT = b"\x12", b"\x72"


class TcpPrinter:
    """A network printer's port 9100 on localhost: keeps every byte it is sent and answers
    the paper-sensor query with ``paper``."""

    def __init__(self, paper: bytes = PAPER_OK):
        self.paper = paper
        self.received = bytearray()
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.done = threading.Semaphore(0)
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    @property
    def spec(self) -> str:
        return f"tcp:127.0.0.1:{self.port}"

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            with conn:
                job = bytearray()
                while chunk := conn.recv(65536):
                    job += chunk
                    if job.endswith(RT_STATUS_PAPER):
                        conn.sendall(self.paper)
                self.received += job
                self.done.release()

    def wait_job(self) -> bytes:
        assert self.done.acquire(timeout=10), "the printer got no job"
        return bytes(self.received)

    def close(self) -> None:
        self.sock.close()


@pytest.fixture
def tcp_printer():
    made = []

    def make(paper: bytes = PAPER_OK) -> TcpPrinter:
        made.append(TcpPrinter(paper))
        return made[-1]

    yield make
    for p in made:
        p.close()


def dummy_bytes(r: receipts.Receipt, lang: str) -> bytes:
    d = Dummy()
    printer.write(d, r, lang)
    return d.output


def test_the_dummy_printer_gets_init_gb18030_text_in_chinese_mode_and_a_cut():
    out = dummy_bytes(RECEIPT, "zh")
    text = "\n".join(receipts.render(RECEIPT, "zh")) + "\n"
    assert out.startswith(b"\x1b@")  # ESC @: reset
    assert printer.CHINESE_ON + text.encode("gb18030") + printer.CHINESE_OFF in out
    for words in ("积分凭条", "幸福社区兑换站", "加 10 分", "积分：100 → 110", "张*明"):
        assert words.encode("gb18030") in out, words
    assert "张三明".encode("gb18030") not in out  # masked as on screen
    assert RECEIPT.qr_payload.encode() in out  # the native QR code's data
    assert out.endswith(PAPER_FULL_CUT)
    with pytest.raises(UnicodeDecodeError):
        out.decode("utf-8")  # GB18030, not UTF-8 bytes a Chinese printer would garble


def test_an_offline_receipt_is_marked_pending_in_both_languages():
    from dataclasses import replace

    pending = replace(RECEIPT, pending=True)
    assert "待同步" in "\n".join(receipts.render(pending, "zh"))
    assert "Pending sync" in "\n".join(receipts.render(pending, "en"))
    assert "待同步".encode("gb18030") in dummy_bytes(pending, "zh")
    assert "待同步" not in "\n".join(receipts.render(RECEIPT, "zh"))


@pytest.mark.parametrize(("spec", "kind", "address"), [
    ("usb:04b8:0202", "usb", (0x04B8, 0x0202)), ("tcp:10.0.0.5", "tcp", ("10.0.0.5", 9100)),
    ("tcp:printer.local:9101", "tcp", ("printer.local", 9101)), ("serial:/dev/ttyUSB0", "serial", ("/dev/ttyUSB0", 19200)),
    ("serial:/dev/ttyS1:9600", "serial", ("/dev/ttyS1", 9600)),
])
def test_a_printer_setting_names_its_device(spec, kind, address):
    assert printer.parse(spec) == printer.Device(kind, address)


@pytest.mark.parametrize("spec", ["lpt:1", "usb:zz:01", "tcp:", "tcp:h:port", "usb:04b8"])
def test_a_printer_setting_that_names_no_device_is_refused(spec):
    with pytest.raises(InvalidInput):
        printer.parse(spec)


def test_a_network_printer_receives_the_receipt(tcp_printer):
    p = tcp_printer()
    printer.print_receipt(p.spec, RECEIPT, "zh")
    assert p.wait_job() == RT_STATUS_PAPER + dummy_bytes(RECEIPT, "zh")


def test_out_of_paper_is_said_and_nothing_is_sent(tcp_printer):
    p = tcp_printer(PAPER_OUT)
    with pytest.raises(PrinterFailed) as caught:
        printer.print_receipt(p.spec, RECEIPT, "zh")
    assert caught.value.key == "printer_no_paper"
    assert p.wait_job() == RT_STATUS_PAPER


def test_an_unplugged_printer_is_said():
    with socket.create_server(("127.0.0.1", 0)) as s:
        port = s.getsockname()[1]
    with pytest.raises(PrinterFailed) as caught:
        printer.print_receipt(f"tcp:127.0.0.1:{port}", RECEIPT, "zh")
    assert caught.value.key == "printer_unreachable"


def test_a_missing_usb_or_serial_printer_is_said():
    for spec in ("usb:04b8:0e15", "serial:/dev/does-not-exist"):
        with pytest.raises(PrinterFailed) as caught:
            printer.print_receipt(spec, RECEIPT, "zh")
        assert caught.value.key == "printer_unreachable"
