"""``python -m handouts``: the same as the ``handouts`` command."""

from .cli import cli

if __name__ == "__main__":
    cli()
