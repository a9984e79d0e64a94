"""The web UI's "Goals" tab (Locust's extended_tabs / extended_tables) and its CSV / JSON downloads.

Locust's front end renders a tab per `template_args["extended_tabs"]` entry, a table per
`extended_tables` structure, and fills it from the `extended_stats` list of the /stats/requests answer it
polls every two seconds; `extended_csv_files` adds links to the "Download Data" tab.
"""
from __future__ import annotations

import json
from typing import Callable

from flask import Blueprint, Response, request

from loadtest.goals import ROW_COLUMNS, GoalCounters, to_csv

TAB_KEY = "goals"
TITLES = {"group": "Group", "name": "Name", "calls": "Calls", "successes": "Successes", "failures": "Failures",
          "cancelled": "Cancelled", "simulator_errors": "Simulator errors", "not_prepared": "Caller not prepared",
          "success_rate": "Success rate",
          "goals_met": "Goals met",
          "goals_total": "Goals total", "goal_rate": "Goal rate", "caller_overloaded": "Caller overloaded"}


def install(environment, counters: Callable[[], GoalCounters]) -> None:
    """Add the Goals tab, /goals/csv and /goals/json to a Locust web UI; `counters` gives the live totals."""
    web_ui = environment.web_ui
    base = (environment.parsed_options.web_base_path if environment.parsed_options else "") or ""
    web_ui.template_args["extended_tabs"] = [{"title": "Goals", "key": TAB_KEY}]
    web_ui.template_args["extended_tables"] = [
        {"key": TAB_KEY, "structure": [{"key": column, "title": TITLES[column]} for column in ROW_COLUMNS]}]
    web_ui.template_args["extended_csv_files"] = [{"href": "./goals/csv", "title": "Download goals CSV"}]

    blueprint = Blueprint("caller_goals", __name__, url_prefix=base)

    @blueprint.route("/goals/csv")
    @web_ui.auth_required_if_enabled
    def goals_csv() -> Response:
        return Response(to_csv(counters()), mimetype="text/csv",
                        headers={"Content-Disposition": "attachment; filename=goals.csv"})

    @blueprint.route("/goals/json")
    @web_ui.auth_required_if_enabled
    def goals_json() -> Response:
        return Response(json.dumps(counters().to_dict()), mimetype="application/json")

    web_ui.app.register_blueprint(blueprint)

    @web_ui.app.after_request
    def add_goals_to_stats(response: Response) -> Response:
        if request.path != f"{base}/stats/requests" or response.status_code != 200 or not response.is_json:
            return response
        data = response.get_json()
        data["extended_stats"] = [{"key": TAB_KEY, "data": counters().rows()}]
        response.set_data(json.dumps(data))
        return response
