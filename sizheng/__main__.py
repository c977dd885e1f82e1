"""``python -m sizheng <command>`` runs a management command (like manage.py)."""

import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sizheng.settings")
    from django.core.management import execute_from_command_line

    argv = sys.argv[:]
    argv[0] = "python -m sizheng"
    # Accept both spellings: check-deploy and check_deploy.
    if len(argv) > 1 and "-" in argv[1] and not argv[1].startswith("-"):
        argv[1] = argv[1].replace("-", "_")
    # genkey must work before any key exists (production settings refuse to load without keys).
    if argv[1:2] == ["genkey"]:
        from sizheng.core.management.commands.genkey import main as genkey_main

        sys.exit(genkey_main(argv[2:]))
    execute_from_command_line(argv)


if __name__ == "__main__":
    main()
