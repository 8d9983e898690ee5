"""A fake VK API server on 127.0.0.1: the console demo's wall, and the tests' and benchmarks' VK.

It ships with the product because the console demo (`python -m bot --demo`) runs on it; the real
client in `core.vk` never imports it.
"""
