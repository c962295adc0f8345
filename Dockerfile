FROM python:3.12-slim
WORKDIR /app
COPY pyproject.toml README.md ./
COPY domain ./domain
COPY projections ./projections
COPY api ./api
COPY infra ./infra
RUN pip install --no-cache-dir . && useradd --create-home crafting
USER crafting
EXPOSE 8000
CMD ["crafting", "serve", "--host", "0.0.0.0", "--port", "8000"]
