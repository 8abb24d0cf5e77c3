"""One settings object per kiosk process: flags over environment over defaults, read once
at the entry point (``jifen-kiosk``)."""

from pathlib import Path

from kiosk import settings
from kiosk.settings import DEFAULT_DATA, ENV, Settings


def test_environment_overrides_defaults_and_flags_override_both():
    env = {"JIFEN_KIOSK_DATA": "from-env", "JIFEN_LANG": "en_US.UTF-8", "JIFEN_CRASH_AT": "kiosk.push.after_reply:2"}
    s = settings.from_env(env)
    assert (s.data_dir, s.lang, s.crash_at) == (Path("from-env"), "en", "kiosk.push.after_reply:2")
    s = settings.from_env(env, data_dir="flag", lang="zh", timeout=3.0)
    assert (s.data_dir, s.lang, s.timeout) == (Path("flag"), "zh", 3.0)
    assert settings.from_env({}) == Settings() and settings.from_env({}).data_dir == DEFAULT_DATA
    assert settings.from_env({"JIFEN_LANG": "fr"}).lang == "zh"  # a language we do not speak: the default


def test_load_reads_arguments_only(monkeypatch):
    monkeypatch.setenv("JIFEN_KIOSK_DATA", "from-env")
    monkeypatch.setenv("JIFEN_LANG", "en")
    monkeypatch.setenv("JIFEN_CRASH_AT", "kiosk.record.before_commit")
    assert settings.load() == Settings()


def test_every_variable_is_a_field_and_documented():
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    for name, var in ENV.items():
        assert name in Settings.__dataclass_fields__ and f"`{var}`" in readme, var
