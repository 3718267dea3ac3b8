"""yaogc.examples: the example programs (``*.yao``), installed with the package for ``yaogc demo``."""
