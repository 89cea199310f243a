"""Trainer: terminal safety training and assessment for factory workers."""

__version__ = "0.1.0"
