"""Caption sinks: the wearable OLED (luma.oled), and the terminal."""
