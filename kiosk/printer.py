"""Receipts on paper: the shop's ESC/POS thermal printer over USB, the network or a serial line.

The kiosk's setting ``printer`` names the device (``kiosk.settings``)::

    usb:04b8:0202          vendor and product id, hex
    tcp:192.168.1.50[:9100]
    serial:/dev/ttyUSB0[:19200]

python-escpos drives the device, but its code-page machinery has no Chinese, so the receipt's
text goes out as GB18030 bytes between the printer's own Chinese-mode commands (FS &, FS .);
GB18030 is ASCII where the text is, so an English receipt with a resident's Chinese name
prints the same way. A printer that fails (unplugged, out of paper) raises ``PrinterFailed``
with the operator's words; the record and the saved receipt are already safe by then, and
the technical detail goes to the log. Imports no Textual.
"""

import logging
from dataclasses import dataclass

from escpos.escpos import Escpos
from escpos.exceptions import Error as EscposError
from escpos.printer import Network, Serial, Usb

from kiosk import receipts
from kiosk.errors import InvalidInput, PrinterFailed

log = logging.getLogger(__name__)

#: ESC/POS: select, then cancel, the printer's Chinese character mode (double-byte GB text)
CHINESE_ON = b"\x1c&"
CHINESE_OFF = b"\x1c."
#: the socket, serial or USB timeout: a printer that hangs must not hold the receipt long
TIMEOUT = 5


@dataclass(frozen=True)
class Device:
    kind: str  # usb | tcp | serial
    address: tuple


def parse(spec: str) -> Device:
    """The device a ``printer`` setting names; ``InvalidInput`` if it names none."""
    kind, _, rest = spec.strip().partition(":")
    parts = rest.split(":") if rest else []
    try:
        match kind.lower(), parts:
            case "usb", [vendor, product]:
                return Device("usb", (int(vendor, 16), int(product, 16)))
            case "tcp", [host]:
                return Device("tcp", (host, 9100))
            case "tcp", [host, port]:
                return Device("tcp", (host, int(port)))
            case "serial", [path]:
                return Device("serial", (path, 19200))
            case "serial", [path, baud]:
                return Device("serial", (path, int(baud)))
    except ValueError:
        pass
    raise InvalidInput(what="printer", value=spec)


def connect(device: Device) -> Escpos:
    """An open python-escpos printer for ``device``; ``PrinterFailed`` if it is not there."""
    try:
        match device.kind:
            case "usb":
                printer = Usb(*device.address, timeout=TIMEOUT * 1000)
            case "tcp":
                printer = Network(device.address[0], device.address[1], timeout=TIMEOUT)
            case _:
                printer = Serial(device.address[0], baudrate=device.address[1], timeout=TIMEOUT)
        printer.open()
    except (EscposError, OSError, ValueError) as exc:
        log.warning("printer %s not reachable: %r", device, exc)
        raise PrinterFailed("printer_unreachable") from None
    return printer


def write(printer: Escpos, r: receipts.Receipt, lang: str) -> None:
    """Send one receipt: reset, its text in GB18030 in Chinese mode, its QR code, cut."""
    printer.hw("INIT")
    text = "\n".join(receipts.render(r, lang)) + "\n"
    # _raw is python-escpos's one byte path: its text() would re-encode through code pages
    printer._raw(CHINESE_ON + text.encode("gb18030") + CHINESE_OFF)
    printer.qr(r.qr_payload, native=True, size=6)
    printer.cut()


def has_paper(printer: Escpos) -> bool:
    """The paper sensor (DLE EOT 4); a printer that does not answer counts as having paper."""
    try:
        return printer.paper_status() != 0
    except (EscposError, OSError) as exc:
        log.info("printer gave no paper status: %r", exc)
        return True


def print_receipt(spec: str, r: receipts.Receipt, lang: str) -> None:
    """Print ``r`` on the printer ``spec`` names; ``PrinterFailed`` (paper out, unplugged, a
    write that failed) in the operator's words, the detail in the log."""
    printer = connect(parse(spec))
    try:
        if not has_paper(printer):
            raise PrinterFailed("printer_no_paper")
        write(printer, r, lang)
    except (EscposError, OSError) as exc:
        log.warning("printing receipt %s failed: %r", r.event_id, exc)
        raise PrinterFailed("printer_failed") from None
    finally:
        try:
            printer.close()
        except (EscposError, OSError) as exc:
            log.info("closing the printer: %r", exc)
