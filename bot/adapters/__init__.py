"""The surfaces: each parses a platform event, calls ``parley.bot.service``, renders the
result within the platform's limits and sends it; each knows how to start itself."""
