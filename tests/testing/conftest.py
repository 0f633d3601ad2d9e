"""The plugin's own tests run small test files in a fresh pytest (pytester)."""

pytest_plugins = ["pytester"]
