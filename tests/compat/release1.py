"""What the compat tests do with a release-1 kiosk beside a current one: award under the
first active rule it mirrors, the resident's points as it mirrors them before."""

from tests.compat.v1 import wire as v1
from tests.conftest import T0


def award_once(old, card: str) -> tuple[int, int]:
    """Push one award for ``card`` from the release-1 kiosk ``old`` (already pulled); its
    mirrored balance before and the rule's points."""
    rule = next(r for r in old.mirror.values() if isinstance(r, v1.RuleRec) and r.kind != "prohibited" and r.status == "active")
    before = old.mirror[("balance", card)].points if ("balance", card) in old.mirror else 0
    eid, n = old.next_id()
    award = v1.Award(id=eid, kseq=n, at=T0, operator="op1", resident=card, rule=rule.code, points=rule.points)
    assert old.push(award).status == "applied"
    return before, rule.points
