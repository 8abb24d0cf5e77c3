"""One settings object per server process: flags over environment over defaults, read
once at the entry point."""

from pathlib import Path

from server.settings import ENV, Settings


def test_environment_overrides_defaults_and_flags_override_both():
    env = {"JIFEN_LEASE_SECONDS": "60", "JIFEN_TICK_SECONDS": "0", "JIFEN_RATE_LIMIT_PER_SECOND": "2.5", "JIFEN_ADMIN_PASSWORD": "chosen one",
           "JIFEN_CRASH_AT": "server.push.verified:2"}
    s = Settings.from_env(env, data_dir=Path("d"), lease_seconds=90)
    assert (s.lease_seconds, s.tick_seconds, s.rate_limit_per_second, s.admin_password, s.data_dir) == (90, 0.0, 2.5, "chosen one", Path("d"))
    assert s.crash_at == "server.push.verified:2" and Settings().crash_at is None
    assert Settings.from_env({}) == Settings()
    assert Settings.from_env({"JIFEN_TICK_SECONDS": ""}).tick_seconds == Settings().tick_seconds  # set but empty: the default


def test_every_variable_is_a_field_and_documented():
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    names = Settings.__dataclass_fields__
    for name, (var, _) in ENV.items():
        assert name in names and f"`{var}`" in readme, var


def test_the_admin_password_never_shows_in_a_repr():
    assert "chosen one" not in repr(Settings(admin_password="chosen one"))
