"""The console benchmark runs end to end at a tiny size (a real server, a signed-in admin,
every page), so it cannot rot unnoticed. Nothing here looks at a time."""

import json

from bench.__main__ import main


def test_every_console_page_answers_and_is_written_with_its_limits(tmp_path, capsys):
    out = tmp_path / "latest.json"
    assert main(["--tiny", "--only", "console", "--work", str(tmp_path / "work"), "--out", str(out)]) == 0
    figures = {f["name"]: f for f in json.loads(out.read_text())["figures"]}
    for page in ("dashboard", "search_name", "search_initials", "search_card", "search_phone_tail", "resident_long",
                 "reviews", "review_item_1", "report_board", "report_settlement_xlsx", "report_issued_csv",
                 "report_shifts", "reference_kiosks", "counties", "staff", "audit_log", "import_preview"):
        f = figures[f"console_{page}"]
        assert f["value"]["n"] >= 3 and f["extra"]["bytes"] > 0 and "health" in f["baseline"], page
    assert "use case" in figures["console_dashboard"]["baseline"]
    printed = capsys.readouterr().out
    assert "console pages" in printed and "resident_long" in printed
