from newsletter.cli import run

run()
