"""gridcity: grid-based city management (城市网格化管理), faithful to GB/T 30428 / GB/T 47678."""

__version__ = "0.1.0"
