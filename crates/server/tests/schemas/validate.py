"""Validates Statuspage v2 answers against statuspage-v2.schema.json.

Usage: python3 validate.py SCHEMA ANSWERS, where ANSWERS is a JSON object mapping each
path below /api/v2/ (e.g. "summary.json") to the document served there. Prints every
error and exits 1 if there is one.
"""
import json
import sys

import jsonschema

schema = json.load(open(sys.argv[1]))
answers = json.load(open(sys.argv[2]))
errors = 0
for path, document in answers.items():
    wrapped = {"$schema": schema["$schema"], "$defs": schema["$defs"], "$ref": "#/$defs/" + path.replace("/", "~1")}
    validator = jsonschema.Draft202012Validator(wrapped)
    for error in validator.iter_errors(document):
        errors += 1
        where = "/".join(str(p) for p in error.absolute_path)
        print(f"{path} at /{where}: {error.message}")
print(f"{len(answers)} answers checked, {errors} errors")
sys.exit(1 if errors else 0)
