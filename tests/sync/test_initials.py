"""The switches ``sync.initials.PYPINYIN_ENVIRONMENT`` gives pypinyin leave every reading the
initials use as it is, and take the memory they are set for (each in a fresh interpreter:
pypinyin reads them once, at its import)."""

import json
import os
import subprocess
import sys

from sync.initials import PYPINYIN_ENVIRONMENT

#: the letters of every character of CJK Unified Ideographs, Extension A and Extension B, and
#: the process's peak RSS after reading them (KiB: VmHWM, which starts again at exec, not
#: ru_maxrss, which keeps the forking test process's own peak)
READ_ALL = """
import json
from sync.initials import _letter
blocks = [(0x3400, 0x4DC0), (0x4E00, 0xA000), (0x20000, 0x2A6E0)]
letters = "".join(_letter(chr(cp)) or "-" for lo, hi in blocks for cp in range(lo, hi))
hwm = next(line for line in open("/proc/self/status") if line.startswith("VmHWM:"))
print(json.dumps({"letters": letters, "rss_kib": int(hwm.split()[1])}))
"""


def read_all(switches: dict[str, str]) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYPINYIN_")}
    out = subprocess.run([sys.executable, "-c", READ_ALL], env={**env, **switches}, capture_output=True, text=True,
                         check=True, cwd=os.path.dirname(os.path.dirname(os.path.dirname(__file__))))
    return json.loads(out.stdout)


def test_every_character_reads_the_same_without_the_phrase_dictionary():
    full, lean = read_all({}), read_all(PYPINYIN_ENVIRONMENT)
    assert len(full["letters"]) == 6592 + 20992 + 42720
    assert lean["letters"] == full["letters"]
    # the reason for the switches: the phrase dictionary is tens of MB of Python objects
    assert full["rss_kib"] - lean["rss_kib"] > 20 * 1024, (full["rss_kib"], lean["rss_kib"])


def test_both_entry_points_set_them_before_pypinyin_loads():
    probe = ("import sys, os; from {m} import main; "
             "import contextlib, io\n"
             "with contextlib.redirect_stdout(io.StringIO()):\n"
             "    try: main(['--help'])\n"
             "    except SystemExit: pass\n"
             "print(os.environ.get('PYPINYIN_NO_PHRASES'))")
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYPINYIN_")}
    for module in ("server.cli", "kiosk.cli"):
        out = subprocess.run([sys.executable, "-c", probe.format(m=module)], env=env, capture_output=True, text=True,
                             check=True, cwd=os.path.dirname(os.path.dirname(os.path.dirname(__file__))))
        assert out.stdout.strip().splitlines()[-1] == PYPINYIN_ENVIRONMENT["PYPINYIN_NO_PHRASES"], module
