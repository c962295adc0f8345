FROM python:3.12-slim
WORKDIR /app
# The promotion dossier's PDF is rendered by WeasyPrint: pango, and fonts from Debian.
RUN apt-get update \
    && apt-get install -y --no-install-recommends libpango-1.0-0 libpangoft2-1.0-0 fonts-dejavu-core \
    && rm -rf /var/lib/apt/lists/*
COPY pyproject.toml README.md ./
COPY domain ./domain
COPY projections ./projections
COPY api ./api
COPY infra ./infra
RUN pip install --no-cache-dir . && useradd --create-home crafting
USER crafting
EXPOSE 8000
CMD ["crafting", "serve", "--host", "0.0.0.0", "--port", "8000"]
