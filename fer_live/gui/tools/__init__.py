"""Developer tools over the real window: the live-window benchmark and the screenshot maker."""
