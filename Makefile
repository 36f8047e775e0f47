# The two commands a newcomer needs: `make demo` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
# torch is installed first and pinned to the CPU-friendly build; override for a CUDA machine,
# e.g. `make demo TORCH_SPEC="torch>=2.4,<2.14"`.
TORCH_SPEC ?= torch==2.13.0

.PHONY: demo test bench lint format clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -c "import torch" 2>/dev/null || $(BIN)/python -m pip install -q "$(TORCH_SPEC)"
	$(BIN)/python -m pip install -q -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(BIN)/python -c "import torch" 2>/dev/null || $(BIN)/python -m pip install -q "$(TORCH_SPEC)"
	$(BIN)/python -m pip install -q -e ".[dev]"
	touch $(VENV)/.installed $@

demo: $(VENV)/.installed
	$(BIN)/groundup run gpt

test: $(VENV)/.installed-dev
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks
	$(BIN)/python -m pytest -n 2 --dist loadgroup

bench: $(VENV)/.installed-dev
	$(BIN)/python benchmarks/bench_autograd.py
	$(BIN)/python benchmarks/bench_bpe.py $(if $(TEXT),--data $(TEXT))
	$(BIN)/python benchmarks/bench_word2vec.py
	$(BIN)/python benchmarks/bench_gpt_train.py $(if $(TEXT),--data $(TEXT))
	$(BIN)/python benchmarks/bench_char_lstm.py $(if $(TEXT),--data $(TEXT))
	$(if $(SST2),$(BIN)/python benchmarks/bench_text_classify.py --data $(SST2))
	$(if $(SST2),$(BIN)/python benchmarks/bench_lstm_classify.py --data $(SST2))
	$(BIN)/python benchmarks/bench_gpt_scale.py
	$(BIN)/python benchmarks/bench_generate.py
	$(BIN)/python benchmarks/bench_encode.py
	$(if $(SST2),$(BIN)/python benchmarks/bench_sst2.py --data $(SST2))
	$(if $(CONLL),$(BIN)/python benchmarks/bench_ner.py --data $(CONLL))
	$(if $(SQUAD),$(BIN)/python benchmarks/bench_squad.py --data $(SQUAD))

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks

format: $(VENV)/.installed-dev
	$(BIN)/ruff format src tests benchmarks
	$(BIN)/ruff check --fix src tests benchmarks

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .hypothesis
