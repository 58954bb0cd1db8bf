"""heatplug tempest plugin."""
