"""The review team: the allow-list of accounts with their roles, kept in the store, and the
checks every signed action makes against it. Run on the data folder and in memory alike."""

from __future__ import annotations

from pathlib import Path

import pytest
from backend_choice import server_for
from click.testing import CliRunner
from postgres_server import Server
from test_error_wording import FLAG_OR_COMMAND

from tracker import Store, duplicates, errors, screening, team
from tracker.cli import main
from tracker.cli.remedies import worded
from tracker.records import Article

LEAD, REVIEWER = team.Role.LEAD, team.Role.REVIEWER
PMIDS = [11, 12, 13]


@pytest.fixture(params=["data folder", "memory", "postgresql"])
def store(request: pytest.FixtureRequest, data_dir: Path) -> Store:
    if request.param == "postgresql":
        server: Server = request.getfixturevalue("postgres")
        made = Store(backend=server_for(server.url, data_dir))
    else:
        made = Store(data_dir) if request.param == "data folder" else Store.in_memory()
    made.upsert([Article(pmid=p, title=f"study {p}") for p in PMIDS])
    return made


def with_team(store: Store) -> Store:
    team.add(store, "Lena@Example.org", role=LEAD, by="setup")
    team.add(store, "ana@example.org", by="lena@example.org")
    return store


def test_an_open_review_lets_any_name_decide_and_resolve(store: Store) -> None:
    screening.decide(store, [11], decision="include", reviewer="ana")
    screening.decide(store, [11], decision="exclude", reviewer="ben", reason="duplicate")
    screening.resolve(store, 11, decision="include", reviewer="ana", stage="title-abstract")
    assert team.members(store) == []
    assert screening.summary(store)["decision"][11] == "include"


def test_the_first_member_must_be_a_lead_and_nothing_is_kept_otherwise(store: Store) -> None:
    with pytest.raises(errors.LastLead):
        team.add(store, "ana@example.org", by="setup")
    assert team.history(store).empty
    assert team.add(store, "lena@example.org", role=LEAD, by="setup").role == LEAD


def test_accounts_are_email_addresses_spelled_in_lower_case(store: Store) -> None:
    with pytest.raises(errors.AccountInvalid):
        team.add(store, "Lena", role=LEAD, by="setup")
    with_team(store)
    assert team.members(store) == [
        team.Member("ana@example.org", REVIEWER),
        team.Member("lena@example.org", LEAD),
    ]


def test_with_a_team_only_members_sign_and_nothing_is_appended_for_others(store: Store) -> None:
    with_team(store)
    with pytest.raises(errors.NotAMember) as refused:
        screening.decide(store, [11], decision="include", reviewer="ben@example.org")
    assert refused.value.account == "ben@example.org"
    for act in (
        lambda: screening.tag(store, [11], reviewer="ben", add="x"),
        lambda: screening.note(store, 11, "n", reviewer="ben"),
        lambda: screening.undo(store, reviewer="ben"),
        lambda: duplicates.confirm(store, 12, duplicate_of=11, reviewer="ben"),
    ):
        with pytest.raises(errors.NotAMember):
            act()
    assert store.events().empty


def test_a_member_signs_as_the_team_spells_the_account(store: Store) -> None:
    with_team(store)
    screening.decide(store, [11], decision="include", reviewer="  ANA@example.org ")
    assert store.events()["reviewer"].tolist() == ["ana@example.org"]
    assert screening.reviewer_decisions(store, "ana@example.org", "title-abstract") == {
        11: "include"
    }


def test_a_reviewer_cannot_resolve_a_conflict_and_a_lead_can(store: Store) -> None:
    with_team(store)
    screening.decide(store, [12], decision="include", reviewer="ana@example.org")
    screening.decide(store, [12], decision="maybe", reviewer="lena@example.org")
    with pytest.raises(errors.RoleRequired) as refused:
        screening.resolve(store, 12, decision="include", reviewer="ana@example.org",
                          stage="title-abstract")  # fmt: skip
    assert (refused.value.role, refused.value.account) == ("lead", "ana@example.org")
    assert screening.conflicts(store, "title-abstract")["record_id"].tolist() == [12]
    screening.resolve(store, 12, decision="include", reviewer="lena@example.org",
                      stage="title-abstract")  # fmt: skip
    assert screening.conflicts(store, "title-abstract").empty


def test_the_last_lead_stays_until_another_member_leads(store: Store) -> None:
    with_team(store)
    with pytest.raises(errors.LastLead):
        team.remove(store, "lena@example.org", by="lena@example.org")
    with pytest.raises(errors.LastLead):
        team.add(store, "lena@example.org", role=REVIEWER, by="lena@example.org")
    team.add(store, "ana@example.org", role=LEAD, by="lena@example.org")
    assert team.remove(store, "lena@example.org", by="ana@example.org")
    assert team.members(store) == [team.Member("ana@example.org", LEAD)]


def test_removing_every_member_opens_the_review_again(store: Store) -> None:
    team.add(store, "lena@example.org", role=LEAD, by="setup")
    assert team.remove(store, "lena@example.org", by="setup")
    assert not team.remove(store, "lena@example.org", by="setup"), "not on the team any more"
    assert team.members(store) == []
    screening.decide(store, [11], decision="include", reviewer="anyone")


def test_the_history_keeps_who_granted_what_and_never_rewrites_a_row(store: Store) -> None:
    with_team(store)
    before = team.history(store)
    team.add(store, "ana@example.org", role=LEAD, by="lena@example.org")
    team.remove(store, "ana@example.org", by="lena@example.org")
    after = team.history(store)
    assert after.iloc[: len(before)].equals(before)
    assert after[["account", "role", "by"]].values.tolist() == [
        ["lena@example.org", "lead", "setup"],
        ["ana@example.org", "reviewer", "lena@example.org"],
        ["ana@example.org", "lead", "lena@example.org"],
        ["ana@example.org", "", "lena@example.org"],
    ]
    assert after["at"].is_monotonic_increasing


def test_a_change_to_the_team_leaves_the_event_log_and_its_caches_alone(store: Store) -> None:
    before = store.stamp()
    with_team(store)
    after = store.stamp()
    assert (after.events, after.records) == (before.events, before.records)
    assert after.side_table(team.TABLE) != before.side_table(team.TABLE)


# -- the command line -------------------------------------------------------------------------


def run(data_dir: Path, *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, [*args, "--data-dir", str(data_dir)])
    return result.exit_code, result.stdout, result.stderr


def test_members_add_list_and_remove_on_the_command_line(data_dir: Path) -> None:
    Store(data_dir).upsert([Article(pmid=11, title="t")])
    assert run(data_dir, "members", "list")[1].startswith("No members: the review is open")
    code, out, _ = run(data_dir, "members", "add", "Lena@Example.org", "--role", "lead")
    assert (code, out) == (0, "lena@example.org is a lead of the review.\n")
    run(data_dir, "members", "add", "ana@example.org", "--by", "lena@example.org")
    assert run(data_dir, "members", "list")[1] == (
        "ana@example.org\treviewer\nlena@example.org\tlead\n"
    )
    code, out, _ = run(data_dir, "members", "remove", "ana@example.org")
    assert (code, out) == (0, "ana@example.org removed.\n")
    lines = run(data_dir, "members", "list", "--history")[1].splitlines()
    assert [line.split("  ", 1)[1] for line in lines][1:] == [
        "ana@example.org made reviewer by lena@example.org",
        "ana@example.org removed by " + team.history(Store(data_dir))["by"].iloc[-1],
    ]


def test_the_command_line_words_team_errors_with_its_commands(data_dir: Path) -> None:
    Store(data_dir).upsert([Article(pmid=11, title="t")])
    code, _, err = run(data_dir, "members", "add", "ana@example.org")
    assert code == 1 and "`tracker members add EMAIL --role lead`" in err
    run(data_dir, "members", "add", "lena@example.org", "--role", "lead")
    code, _, err = run(data_dir, "screen", "11", "--decision", "include", "--reviewer", "ben@x.org")
    assert code == 1
    assert err == (
        "Error: ben@x.org is not on this review's team: `tracker members add ben@x.org` adds it"
        " (or pass --reviewer with a member's address).\n"
    )
    run(data_dir, "members", "add", "ana@example.org")
    run(data_dir, "screen", "11", "--decision", "include", "--reviewer", "ana@example.org")
    run(data_dir, "screen", "11", "--decision", "maybe", "--reviewer", "lena@example.org")
    code, _, err = run(data_dir, "resolve", "11", "--decision", "include",
                       "--reviewer", "ana@example.org")  # fmt: skip
    assert code == 1 and "`tracker members add ana@example.org --role lead`" in err


@pytest.mark.parametrize(
    "error",
    [
        errors.NotAMember("ben@x.org"),
        errors.RoleRequired("lead", "ana@x.org"),
        errors.AccountInvalid("Lena"),
        errors.LastLead("lena@x.org"),
    ],
)
def test_team_errors_are_neutral_in_the_library_and_worded_by_the_cli(
    error: errors.TrackerError,
) -> None:
    assert not FLAG_OR_COMMAND.search(str(error))
    assert worded(error) != str(error)


def test_team_errors_belong_to_one_branch_of_the_tree() -> None:
    kinds = (errors.NotAMember, errors.RoleRequired, errors.AccountInvalid, errors.LastLead)
    assert [kind for kind in kinds if not issubclass(kind, errors.TeamError)] == []
