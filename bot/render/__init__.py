"""Pure functions from the answer core's data to what a surface shows: plain text and
JSON (CLI, console), Discord embeds, Slack Block Kit, each within its platform's limits."""
