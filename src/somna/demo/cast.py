"""Who is in the demo: people drawn from the sandbox's synthetic physiology, each on one
provider. Deterministic, so a second run finds the same people again."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

from somna.sandbox.physiology import FIRST_NAMES, make_profile

DEMO_SEED = 1
# Every third person tracks their sleep with Asleep, the others wear a WHOOP.
ASLEEP_EVERY = 3
EMAIL_DOMAIN = "demo.example.com"


@dataclass(frozen=True)
class DemoPerson:
    index: int  # the profile index in both sandboxes
    name: str
    email: str
    provider: str
    timezone: str
    drifts_into_strain: bool

    @property
    def metadata(self) -> dict[str, object]:
        return {
            "name": self.name,
            "demo_profile": self.index,
            "drifts_into_strain": self.drifts_into_strain,
        }


def _ascii(text: str) -> str:
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return "".join(ch for ch in folded.lower() if ch.isalnum())


def cast(people: int, seed: int = DEMO_SEED) -> list[DemoPerson]:
    """The first ``people`` profiles of ``seed``; about 30 % of them drift into strain."""
    chosen = []
    for index in range(people):
        profile = make_profile(seed, index)
        # Names repeat after the list of first names; the index keeps emails unique.
        suffix = "" if index < len(FIRST_NAMES) else f".{index}"
        chosen.append(
            DemoPerson(
                index=index,
                name=f"{profile.first_name} {profile.last_name}",
                email=f"{_ascii(profile.first_name)}.{_ascii(profile.last_name)}{suffix}"
                f"@{EMAIL_DOMAIN}",
                provider="asleep" if index % ASLEEP_EVERY == ASLEEP_EVERY - 1 else "whoop",
                timezone=profile.zone,
                drifts_into_strain=profile.strain_onset_day is not None,
            )
        )
    return chosen
