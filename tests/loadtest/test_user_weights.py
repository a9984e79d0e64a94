"""A personality file's `weight` is its Locust User class's weight; fixed_count stays Locust's to set."""
from pathlib import Path

import pytest
from locust import User, task
from locust.dispatch import UsersDispatcher
from locust.env import Environment
from locust.runners import WorkerNode

from callers.errors import ConfigError
from callers.scenario.personality import CallerPersonality, load_personalities, load_personality
from loadtest.users import caller_classes, class_name

BASE_FILE = """\
type = "{name}"
traits = ["calm"]
communication_style = "Plain"
patience_level = 5
tech_comfort = 5
tendency_to_interrupt = 0.1
provides_clear_info = 0.5
"""


class Base(User):
    abstract = True
    personality = ""

    @task
    def place_call(self) -> None:
        """Never runs: the dispatcher only counts users."""


def write_personality(directory: Path, name: str, extra: str = "") -> Path:
    path = directory / f"{name}.toml"
    path.write_text(BASE_FILE.format(name=name) + extra, encoding="utf-8")
    return path


def dispatch(classes: list, users: int) -> dict:
    dispatcher = UsersDispatcher(worker_nodes=[WorkerNode("worker")], user_classes=classes)
    dispatcher.new_dispatch(target_user_count=users, spawn_rate=users)
    dispatcher._wait_between_dispatch = 0
    return next(dispatcher)["worker"]


def test_weight_is_optional_and_defaults_to_one(tmp_path):
    assert load_personality(write_personality(tmp_path, "plain")).weight == 1.0
    assert load_personality(write_personality(tmp_path, "heavy", "weight = 3\n")).weight == 3.0
    assert load_personality(write_personality(tmp_path, "light", "weight = 0.25\n")).weight == 0.25


@pytest.mark.parametrize("value", ["0", "-1", "true", '"2"', "inf", "nan"])
def test_a_bad_weight_names_the_file_and_field(tmp_path, value):
    path = write_personality(tmp_path, "broken", f"weight = {value}\n")
    with pytest.raises(ConfigError) as error:
        load_personality(path)
    assert "broken.toml" in str(error.value) and "weight" in str(error.value)


def test_a_bad_weight_in_python_is_a_value_error():
    with pytest.raises(ValueError, match="weight"):
        CallerPersonality("x", ["a"], "b", 5, 5, 0.1, 0.5, weight=0)


def test_every_shipped_personality_has_a_usable_weight():
    assert all(personality.weight > 0 for personality in load_personalities().values())


def test_one_class_per_personality_carrying_its_weight(tmp_path):
    write_personality(tmp_path, "normal", "weight = 3\n")
    write_personality(tmp_path, "tech_savvy", "weight = 0.5\n")
    write_personality(tmp_path, "angry")
    classes = caller_classes(load_personalities(tmp_path), Base, __name__)
    assert set(classes) == {"NormalCaller", "TechSavvyCaller", "AngryCaller"}
    normal = classes["NormalCaller"]
    assert issubclass(normal, Base) and normal.personality == "normal" and normal.weight == 3.0
    assert classes["TechSavvyCaller"].weight == 0.5
    assert all(cls.fixed_count == 0 for cls in classes.values())  # nothing pinned: the weights decide
    assert not any(cls.abstract for cls in classes.values())  # each is runnable and pickable
    # Locust spreads users by those weights (3 : 0.5 : 1 over 9 users).
    assert dispatch(list(classes.values()), 9) == {"NormalCaller": 6, "TechSavvyCaller": 1, "AngryCaller": 2}


def test_config_users_fixed_count_pins_a_personality(tmp_path):
    write_personality(tmp_path, "normal", "weight = 3\n")
    write_personality(tmp_path, "angry")
    classes = caller_classes(load_personalities(tmp_path), Base, __name__)
    environment = Environment(user_classes=list(classes.values()), available_user_classes=classes,
                              available_user_tasks={name: cls.tasks for name, cls in classes.items()})
    # What `--config-users '{"user_class_name": "AngryCaller", "fixed_count": 4}'` does.
    environment.update_user_class({"user_class_name": "AngryCaller", "fixed_count": 4})
    assert dispatch(list(classes.values()), 9) == {"NormalCaller": 5, "AngryCaller": 4}


def test_class_names_and_collisions():
    assert class_name("tech_savvy") == "TechSavvyCaller"
    assert class_name("night-owl 2") == "NightOwl2Caller"
    twin = CallerPersonality("a", ["a"], "b", 5, 5, 0.1, 0.5)
    with pytest.raises(ValueError, match="TechSavvyCaller"):
        caller_classes({"tech_savvy": twin, "tech.savvy": twin}, Base, __name__)
