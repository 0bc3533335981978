"""Data handling shared by the pipeline's stages.

:mod:`.io` writes stage outputs atomically, so a failing stage never leaves
half an output behind; :mod:`.validation` checks tables against pandera
schemas and names the column and rows of every problem. Put the logic of your
stages here, one module per stage, and keep ``stages/`` as thin wrappers.
"""
