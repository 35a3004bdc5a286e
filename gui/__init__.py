"""Layer Studio GUI: Qt adapters and views over `core` objects."""
