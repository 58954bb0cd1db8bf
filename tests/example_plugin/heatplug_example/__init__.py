"""An example third-party heatplug plugin package."""
