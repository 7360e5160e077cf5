"""bench/capture.py: a captured parameter is explained by the column its name says before any column
that only happens to hold the same value. Made-up captures, no database."""

from __future__ import annotations

from bench import capture

SESSION = capture.Executed(
    "SELECT login_session.id AS session_id, app_user.id, app_user.unit_id, app_user.department_id "
    "FROM login_session JOIN app_user ON app_user.id = login_session.user_id "
    "WHERE login_session.secret_hash = %(secret_hash)s",
    {"secret_hash": "abc"},
    False,
    ["64", "64", "64", None],
    columns=["session_id", "id", "unit_id", "department_id"],
)


def test_the_scope_filter_is_bound_to_the_unit_not_to_an_equal_session_id():
    # the session's id, the user's id and the unit's id are all 64 (made in step, as the bench's data are)
    page = capture.Executed(
        "SELECT self_evaluation.id, self_evaluation.project_id FROM self_evaluation JOIN project "
        "ON project.id = self_evaluation.project_id "
        "WHERE self_evaluation.id = %(evaluation_id)s AND project.unit_id = %(scope_id)s",
        {"evaluation_id": 1273, "scope_id": 64},
        False,
        ["1273", "1273"],
        columns=["id", "project_id"],
    )
    steps = capture.program([SESSION, page], {"session_hash": "abc", "evaluation_id": 1273})
    scope = steps[1].binds[1]
    assert (scope.kind, scope.step, scope.column) == ("row", 0, 2)  # unit_id, not session_id (column 0)


def test_a_parameter_named_like_an_earlier_column_is_that_column_not_an_equal_input():
    # the evaluation's project is read from the evaluation's row, though equal to the evaluation's id here
    evaluation = capture.Executed(
        "SELECT self_evaluation.id, self_evaluation.project_id FROM self_evaluation "
        "WHERE self_evaluation.id = %(evaluation_id)s",
        {"evaluation_id": 1273},
        False,
        ["1273", "1273"],
        columns=["id", "project_id"],
    )
    rows = capture.Executed(
        "SELECT indicator.id FROM indicator WHERE indicator.project_id = %(project_id)s",
        {"project_id": 1273},
        False,
        [],
    )
    steps = capture.program([evaluation, rows], {"evaluation_id": 1273})
    assert steps[0].binds[0].kind == "input"
    bind = steps[1].binds[0]
    assert (bind.kind, bind.step, bind.column) == ("row", 0, 1)


def test_without_a_named_column_the_first_equal_value_still_explains_the_parameter():
    other = capture.Executed(
        "SELECT x FROM t WHERE t.owner = %(owner_1)s", {"owner_1": 64}, False, ["7"], columns=["x"]
    )
    steps = capture.program([SESSION, other], {})
    bind = steps[1].binds[0]
    assert (bind.kind, bind.step, bind.column) == ("row", 0, 0)
    # and a generic name (id_1) is not taken for a column named id
    by_id = capture.Executed("SELECT 1 FROM t WHERE t.id = %(id_1)s", {"id_1": 64}, False, [])
    bind = capture.program([SESSION, by_id], {})[1].binds[0]
    assert (bind.kind, bind.step, bind.column) == ("row", 0, 0)


def test_an_input_named_like_the_parameter_wins_over_an_equal_input_of_another_name():
    q = capture.Executed("SELECT 1 FROM project WHERE project.id = %(project_id)s", {"project_id": 5000}, False, [])
    bind = capture.program([q], {"evaluation_id": 5000, "project_id": 5000})[0].binds[0]
    assert (bind.kind, bind.name) == ("input", "project_id")
