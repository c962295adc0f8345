"""The directory's handlers: pushing people (`upsertPeople`, SCIM) and HR's decision on
a held deactivation wave."""

from __future__ import annotations

from dataclasses import replace

from domain.access import DECIDE_DEACTIVATIONS, require_directory_writer, require_hr
from domain.application import commands as c
from domain.application.session import CommandSession
from domain.directory_guard import DeactivationGuard
from domain.errors import InvalidInput, UnknownPerson, VersionConflict
from domain.metadata import Meta
from domain.person import Person, Profile
from domain.values import person_id

MAX_PEOPLE_PER_UPSERT = 500


def upsert_people(s: CommandSession, cmd: c.UpsertPeople) -> list[Person]:
    """Register or update each person; guarded deactivations may be held instead."""
    meta = s.meta(require_directory_writer(s.actor))
    if not 1 <= len(cmd.people) <= MAX_PEOPLE_PER_UPSERT:
        raise InvalidInput(f"Send between 1 and {MAX_PEOPLE_PER_UPSERT} people.", "people")
    if cmd.expected_version is not None and len(cmd.people) != 1:
        raise InvalidInput("An expected version needs exactly one person.", "expectedVersion")
    batch: dict[str, Person | None] = {}
    profiles = []
    for i, entry in enumerate(cmd.people):
        pid = person_id(entry.id, f"people[{i}].id")
        if pid in batch:
            raise InvalidInput(f"'{pid}' appears twice in this request.", f"people[{i}].id")
        profile = entry.profile.validated(f"people[{i}]")
        if profile.manager_id == pid:
            raise InvalidInput("A person cannot manage themselves.", f"people[{i}].managerId")
        batch[pid] = s.find_person(pid)
        profiles.append((i, pid, profile))
    _check_expected_version(cmd, batch)
    _refuse_manager_cycles(s, profiles)
    held = _held_deactivations(s, cmd, batch, profiles, meta)
    people = []
    for i, pid, profile in profiles:
        manager = profile.manager_id
        if (
            not cmd.managers_may_follow
            and manager is not None
            and manager not in batch
            and s.find_person(manager) is None
        ):
            raise UnknownPerson(
                f"Manager '{manager}' is not in the directory.", f"people[{i}].managerId"
            )
        person = batch[pid]
        provisioning = cmd.people[i].provisioning
        if pid in held:  # everything but the deactivation (or removal) itself applies
            profile = replace(profile, active=True)
            if provisioning is not None:
                provisioning = replace(provisioning, deprovisioned=False)
        if person is None:
            person = Person.register(pid, profile, meta)
        else:
            person.update(profile, meta)
        if provisioning is not None:
            person.provision(provisioning.validated(f"people[{i}]"), meta)
        s.enlist(person)
        people.append(person)
    return people


def _check_expected_version(cmd: c.UpsertPeople, batch: dict[str, Person | None]) -> None:
    expected = cmd.expected_version
    if expected is None:
        return
    (person,) = batch.values()
    version = 0 if person is None else person.version
    if version != expected:
        raise VersionConflict(
            f"The person is at version {version}, not {expected}.", "expectedVersion"
        )


def _held_deactivations(
    s: CommandSession,
    cmd: c.UpsertPeople,
    batch: dict[str, Person | None],
    profiles: list[tuple[int, str, Profile]],
    meta: Meta,
) -> set[str]:
    """Which of this command's deactivations the guard holds (none if unguarded).
    Reactivating someone whose deactivation is held withdraws it."""
    if cmd.guard is None:
        return set()
    deactivating, reactivating = [], []
    for _, pid, profile in profiles:
        person = batch[pid]
        if person is None:
            continue
        if person.profile.active and not profile.active:
            deactivating.append(pid)
        elif profile.active:
            reactivating.append(pid)
    if not deactivating and not reactivating:
        return set()
    guard = s.deactivation_guard(meta)
    if reactivating:
        guard.withdraw(reactivating, meta)
    if not deactivating:
        return set()
    return set(guard.admit(deactivating, s.now, cmd.guard, meta))


def _refuse_manager_cycles(s: CommandSession, profiles: list[tuple[int, str, Profile]]) -> None:
    """Nobody may end up managing themselves through a chain of managers (A manages B,
    B manages A): walk up from everyone in the request, the request's own managers
    taking the place of the directory's."""
    managers: dict[str, str | None] = {pid: profile.manager_id for _, pid, profile in profiles}

    def manager_of(pid: str) -> str | None:
        if pid not in managers:
            person = s.find_person(pid)
            managers[pid] = None if person is None else person.profile.manager_id
        return managers[pid]

    for i, start, _ in profiles:
        chain, current = [start], manager_of(start)
        while current is not None and current not in chain:
            chain.append(current)
            current = manager_of(current)
        if current == start:
            loop = " → ".join([*chain, start])
            raise InvalidInput(
                f"This would make '{start}' their own manager through others ({loop}).",
                f"people[{i}].managerId",
            )


def _wave_as_shown(s: CommandSession, cmd: c.WaveDecision) -> tuple[DeactivationGuard, Meta]:
    """The guard, once HR may decide and the wave is the one they were shown (if the
    command names it). Read and decided in one transaction: a deactivation the provider
    adds meanwhile conflicts on the guard's version, and the retry refuses here."""
    meta = s.meta(require_hr(s.actor, DECIDE_DEACTIVATIONS))
    guard = s.deactivation_guard(meta)
    if cmd.people is not None and set(cmd.people) != set(guard.held):
        if not guard.held:
            raise VersionConflict(
                "Nothing is held any more: someone has decided on this wave already.",
                "personIds",
            )
        raise VersionConflict(
            "The held deactivations changed since you read them: check who is held now "
            f"({len(guard.held)}) and decide again.",
            "personIds",
        )
    return guard, meta


def confirm_deactivations(s: CommandSession, cmd: c.ConfirmDeactivations) -> list[Person]:
    """HR applies the held wave: each held person still active is deactivated."""
    guard, meta = _wave_as_shown(s, cmd)
    people = []
    for pid in guard.release(True, meta):
        person = s.find_person(pid)
        if person is None:
            continue
        person.update(replace(person.profile, active=False), meta)
        s.enlist(person)
        people.append(person)
    return people


def dismiss_deactivations(s: CommandSession, cmd: c.DismissDeactivations) -> list[Person]:
    """HR drops the held wave: its people stay as they are (active)."""
    guard, meta = _wave_as_shown(s, cmd)
    return [p for pid in guard.release(False, meta) if (p := s.find_person(pid)) is not None]
