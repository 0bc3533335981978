"""The batch scoring command as a file for ``spark-submit``, which runs files, not modules.

    spark-submit --master yarn deploy/spark/predict.py --engine spark s3://... --output s3://...

The package must be installed on every machine of the cluster (see the README).
"""

from {{ cookiecutter.package_name }}.predict import main

raise SystemExit(main())
