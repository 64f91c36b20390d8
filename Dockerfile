# Parley: the bot, its model (all-MiniLM-L6-v2, shipped as a Python package) and a built
# index in one image. Runs as a non-root user; nothing is downloaded at run time.
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    HF_HUB_OFFLINE=1 \
    TRANSFORMERS_OFFLINE=1 \
    PARLEY_INDEX_DIR=/data/index \
    PARLEY_FEEDBACK_DB=/data/feedback.sqlite3

WORKDIR /app

# CPU build of torch from PyTorch's CPU wheel index: the default build on PyPI carries CUDA
# libraries of several GB that a CPU-only bot never uses.
RUN pip install --index-url https://download.pytorch.org/whl/cpu torch==2.13.0

# Dependencies first, read from pyproject.toml alone, so editing code does not reinstall them.
COPY pyproject.toml ./
RUN python -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" \
        > /tmp/requirements.txt \
    && pip install -r /tmp/requirements.txt

# Parley itself, installed as a package (not editable): the image runs what a wheel holds.
COPY README.md ./
COPY config/ config/
COPY bot/ bot/
COPY index/ index/
RUN pip install --no-deps . && rm -rf build

COPY corpus/ corpus/

RUN groupadd --gid 10001 parley \
    && useradd --create-home --uid 10001 --gid 10001 parley \
    && mkdir -p /data \
    && chown 10001:10001 /data
USER 10001:10001

# Bake the index in, so a new container answers at once; mount /data to keep re-indexes.
RUN parley index build

ENTRYPOINT ["parley"]
CMD ["index", "status"]
