"""A tiny chapter for the runner tests (not a test module)."""

PROBE = """# ---
# jupyter:
#   jupytext:
#     formats: py:percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Probe
# The answer is {glue:text}`answer:.2f`.

# %% tags=["parameters"]
seed = 0  # a seed
n = 3  # a size
rate = 0.5  # a rate
label = "a"  # a label

# %%
import os
from survlib.book import glue
if n < 0:
    raise ValueError("n must be non-negative")
glue("answer", n * rate, fmt=".2f")
glue("label_seen", label)
glue("cwd", os.getcwd())
"""
