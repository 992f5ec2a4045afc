# Pinned package lists of the engine venvs (scripts/venvs/engines.sh) and where each venv lives.
# Sourced, not run. Every list is complete (installed with --no-deps): the engine itself, then
# exactly the packages its tested code paths import that the torch venv lacks or pins otherwise.
# verl 0.9.1 wants transformers <5.11, OpenRLHF 0.11.2 pins 5.15.0: hence separate venvs.
SRL_ENGINE_VERL_NODEPS="verl==0.9.1 tensordict==0.10.0"
SRL_ENGINE_VERL_DEPS="aiohappyeyeballs==2.7.1 aiohttp==3.14.5 aiosignal==1.4.0 annotated-doc==0.0.7 annotated-types==0.8.0 antlr4-python3-runtime==4.9.3 anyio==4.16.0 attrs==26.1.0 cachetools==8.0.2 click==8.5.1 cloudpickle==3.1.3 codetiming==1.4.0 datasets==5.2.0 dill==0.4.1 fastapi==0.165.0 frozenlist==1.8.0 h11==0.16.0 httpcore==1.0.9 httpx==0.28.1 huggingface_hub==1.33.0 hydra-core==1.3.2 importlib_metadata==10.2.0 jsonschema==4.26.0 jsonschema-specifications==2025.9.1 lazy-importer==0.1.0 markdown-it-py==4.3.0 mdurl==0.1.2 msgpack==1.2.4 multidict==7.2.1 multiprocess==0.70.19 omegaconf==2.3.0 opentelemetry-api==1.45.2 orjson==3.13.0 packaging==25.0 pandas==3.1.1 pillow==13.0.0 propcache==0.5.4 protobuf==7.36.2 pydantic==2.14.4 pydantic_core==2.50.5 Pygments==2.21.0 pylatexenc==2.11 python-dateutil==4.0.0 pyvers==0.1.0 ray==2.55.0 referencing==0.37.0 rich==15.0.0 rpds-py==2026.9.1 shellingham==1.5.4 starlette==1.10.0 transformers==5.10.4 typer==0.29.2 typing-inspection==0.4.5 tzdata==2026.6 uvicorn==0.54.0 xxhash==4.1.0 yarl==1.25.1 zipp==4.1.2 "
SRL_ENGINE_VERL_CHECK="import verl.utils.config, verl.utils.dataset.rl_dataset, verl.experimental.reward_loop.reward_loop, aiohttp"
SRL_ENGINE_OPENRLHF_NODEPS="openrlhf==0.11.2"
SRL_ENGINE_OPENRLHF_DEPS="aiohappyeyeballs==2.7.1 aiohttp==3.14.5 aiosignal==1.4.0 annotated-doc==0.0.7 annotated-types==0.8.0 anyio==4.16.0 attrs==26.1.0 click==8.5.1 datasets==5.2.0 dill==0.4.1 frozenlist==1.8.0 h11==0.16.0 httpcore==1.0.9 httpcore2==2.16.2 httpx==0.28.1 httpx2==2.16.2 huggingface_hub==1.33.0 jsonlines==4.0.0 markdown-it-py==4.3.0 mdurl==0.1.2 multidict==7.2.1 multiprocess==0.70.19 pandas==3.1.1 propcache==0.5.4 pydantic==2.14.4 pydantic_core==2.50.5 Pygments==2.21.0 pylatexenc==2.11 python-dateutil==4.0.0 rich==15.0.0 safetensors==0.8.0 shellingham==1.5.4 transformers==5.15.0 truststore==0.10.5 typer==0.29.2 typing-inspection==0.4.5 tzdata==2026.6 xxhash==4.1.0 yarl==1.25.1  "
SRL_ENGINE_OPENRLHF_CHECK="import openrlhf.utils.agent, openrlhf.datasets.prompts_dataset"
SRL_ENGINE_TRL_NODEPS="trl==1.16.0"
SRL_ENGINE_TRL_DEPS="accelerate==1.15.0 aiohappyeyeballs==2.7.1 aiohttp==3.14.5 aiosignal==1.4.0 annotated-doc==0.0.7 annotated-types==0.8.0 anyio==4.16.0 attrs==26.1.0 click==8.5.1 datasets==5.2.0 dill==0.4.1 frozenlist==1.8.0 h11==0.16.0 httpcore==1.0.9 httpcore2==2.16.2 httpx==0.28.1 httpx2==2.16.2 huggingface_hub==1.33.0 markdown-it-py==4.3.0 mdurl==0.1.2 multidict==7.2.1 multiprocess==0.70.19 pandas==3.1.1 propcache==0.5.4 psutil==7.2.2 pydantic==2.14.4 pydantic_core==2.50.5 Pygments==2.21.0 python-dateutil==4.0.0 rich==15.0.0 safetensors==0.8.0 shellingham==1.5.4 transformers==5.15.0 truststore==0.10.5 typer==0.29.2 typing-inspection==0.4.5 tzdata==2026.6 xxhash==4.1.0 yarl==1.25.1  "
SRL_ENGINE_TRL_CHECK="import trl, datasets; from trl import GRPOConfig, GRPOTrainer"
# The Python server of the load bench (crates/serve/benches/load.rs): FastAPI on uvicorn with
# its standard extras (uvloop, httptools), what a user would write instead of srl-swe serve.
SRL_ENGINE_PYSERVER_NODEPS="fastapi==0.165.0 uvicorn==0.54.0"
SRL_ENGINE_PYSERVER_DEPS="annotated-doc==0.0.7 annotated-types==0.8.0 anyio==4.16.0 click==8.5.1 h11==0.16.0 httptools==0.9.0 importlib_metadata==10.2.0 opentelemetry-api==1.45.2 pydantic==2.14.4 pydantic_core==2.50.5 starlette==1.10.0 typing-inspection==0.4.5 uvloop==0.23.0 zipp==4.1.2"
SRL_ENGINE_PYSERVER_CHECK="import fastapi, uvicorn, uvloop, httptools"

# srl_engine_venv NAME: the venv folder of one engine, keyed by the hash of its package list.
srl_engine_venv() {
  local upper="${1^^}"
  local nodeps_var="SRL_ENGINE_${upper}_NODEPS" deps_var="SRL_ENGINE_${upper}_DEPS"
  local key
  key="$(printf '%s|%s|%s' "${!nodeps_var}" "${!deps_var}" "$SRL_SWE_VENV" | sha256sum | cut -c1-12)"
  echo "$SRL_SWE_CACHE/venv-$1-${key}"
}
