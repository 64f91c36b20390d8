"""Local fakes of Discord and Slack that the real client libraries talk to."""
