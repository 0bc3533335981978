"""Add, change and remove the people who use the team's MLflow server.

Two kinds of user:

- reader: signs in and reads every experiment, run, model and artifact (the
  server's default permission), so can compare runs, download and serve models,
  but cannot log, register, move an alias or delete anything;
- writer: also logs runs, registers model versions and moves aliases (the
  `writers` role: EDIT on every experiment and registered model). Deleting an
  experiment or a model stays with its creator and the admin.

Run it as the admin, from the project (`poetry run python deploy/mlflow-server/users.py`),
with the server's address and the admin's name and password in the environment:

    export MLFLOW_TRACKING_URI=https://mlflow.example.com
    export MLFLOW_TRACKING_USERNAME=admin MLFLOW_TRACKING_PASSWORD=...
    python deploy/mlflow-server/users.py add alice --role writer   # asks for her password
    python deploy/mlflow-server/users.py add bob --role reader
    python deploy/mlflow-server/users.py role bob writer
    python deploy/mlflow-server/users.py password alice
    python deploy/mlflow-server/users.py remove bob

A password is asked for twice at a terminal, or read as one line from standard input.
"""

from __future__ import annotations

import argparse
import getpass
import os
import sys
from collections.abc import Sequence

from mlflow.exceptions import MlflowException
from mlflow.server.auth.client import AuthServiceClient

ROLES = ("reader", "writer")
WRITERS = "writers"  # the role's name on the server
WORKSPACE = "default"  # MLflow's workspace when the server has no others
# What the writers role may do: change (not delete) every experiment and registered model.
WRITER_PERMISSIONS = (("experiment", "*", "EDIT"), ("registered_model", "*", "EDIT"))
MIN_PASSWORD_LENGTH = 12


class UsageError(Exception):
    """A request this script refuses before asking the server; the message says why."""


def read_password(name: str) -> str:
    """The new password of ``name``: asked twice at a terminal, else one line of stdin."""
    if sys.stdin.isatty():
        password = getpass.getpass(f"New password for {name}: ")
        if getpass.getpass("Again: ") != password:
            raise UsageError("the two passwords differ; nothing was changed")
    else:
        password = sys.stdin.readline().rstrip("\n")
    if len(password) < MIN_PASSWORD_LENGTH:
        raise UsageError(f"a password needs at least {MIN_PASSWORD_LENGTH} characters")
    return password


def writers_role_id(client: AuthServiceClient) -> int:
    """The id of the writers role, created with its permissions the first time."""
    for role in client.list_roles(WORKSPACE):
        if role.name == WRITERS:
            return int(role.id)
    role = client.create_role(
        WORKSPACE, WRITERS, "logs runs, registers models and moves aliases; deletes nothing"
    )
    for resource_type, pattern, permission in WRITER_PERMISSIONS:
        client.add_role_permission(role.id, resource_type, pattern, permission)
    return int(role.id)


def is_writer(client: AuthServiceClient, name: str) -> bool:
    """Whether ``name`` holds the writers role."""
    return any(role.name == WRITERS for role in client.list_user_roles(name))


def set_role(client: AuthServiceClient, name: str, role: str) -> str:
    """Give ``name`` the role ``role``; say what changed."""
    writer = is_writer(client, name)
    if role == "writer" and not writer:
        client.assign_role(name, writers_role_id(client))
    elif role == "reader" and writer:
        client.unassign_role(name, writers_role_id(client))
    else:
        return f"{name} is already a {role}"
    return f"{name} is now a {role}"


def run(args: argparse.Namespace, client: AuthServiceClient) -> str:
    """Carry out one command; the line to print."""
    if args.command == "add":
        client.create_user(args.name, read_password(args.name))
        set_role(client, args.name, args.role)
        return f"Added {args.name} as a {args.role}"
    if args.command == "role":
        client.get_user(args.name)  # a clear "not found" before anything changes
        return set_role(client, args.name, args.role)
    if args.command == "password":
        client.update_user_password(args.name, read_password(args.name))
        return f"Changed the password of {args.name}"
    if args.command == "remove":
        client.delete_user(args.name)
        return f"Removed {args.name}"
    raise UsageError(f"unknown command {args.command!r}")


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """The command line: one command and its user."""
    parser = argparse.ArgumentParser(
        description="Manage the people who use the team's MLflow server (run as its admin).",
        epilog="The server: MLFLOW_TRACKING_URI; the admin: MLFLOW_TRACKING_USERNAME and "
        "MLFLOW_TRACKING_PASSWORD; a private CA: MLFLOW_TRACKING_SERVER_CERT_PATH.",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    add = commands.add_parser("add", help="add a person (asks for the password)")
    add.add_argument("name")
    add.add_argument("--role", choices=ROLES, default="reader", help="default: reader")
    role = commands.add_parser("role", help="make a person a reader or a writer")
    role.add_argument("name")
    role.add_argument("role", choices=ROLES)
    for command, text in (("password", "set a new password"), ("remove", "remove a person")):
        commands.add_parser(command, help=text).add_argument("name")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command against the server in MLFLOW_TRACKING_URI."""
    args = parse_args(argv)
    uri = os.environ.get("MLFLOW_TRACKING_URI", "")
    if not uri.startswith(("http://", "https://")):
        print("users.py: set MLFLOW_TRACKING_URI to the team server's address", file=sys.stderr)
        return 2
    try:
        print(run(args, AuthServiceClient(uri)))
    except UsageError as error:
        print(f"users.py: {error}", file=sys.stderr)
        return 2
    except MlflowException as error:
        hint = ""
        if "401" in error.message or "403" in error.message:
            hint = (
                " (run it as the admin: MLFLOW_TRACKING_USERNAME and MLFLOW_TRACKING_PASSWORD"
                " are the admin's)"
            )
        print(f"users.py: the server refused: {error.message}{hint}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
