"""An independent mutation set, written without reading tests/ (only run.py's Mutation format)."""
from run import Mutation  # noqa  (run.py imports this list)

MUTATIONS = [
    # ------------------------------------------------------------------------------------------------ unit types
    # unit types / sampling noise: Gaussian visibles drawn with std 0.5 instead of 1 (wrong conditional variance)
    Mutation("Gaussian units sample with noise std 0.5 instead of 1", "rbmlib/units.py",
             "return x + torch.randn(x.shape, generator=generator, device=x.device, dtype=x.dtype)",
             "return x + 0.5 * torch.randn(x.shape, generator=generator, device=x.device, dtype=x.dtype)"),
    # unit types / energy: ψ(s) = s² instead of s²/2 changes the energy and free energy of Gaussian visibles
    Mutation("Gaussian potential s² instead of s²/2", "rbmlib/units.py",
             "return 0.5 * s * s",
             "return s * s"),
    # unit types / means: stepped sigmoid bias offsets 1, 2, 3 … instead of 0.5, 1.5, 2.5 … (mean and log Z shift)
    Mutation("stepped sigmoid offsets start at 1 instead of 0.5", "rbmlib/units.py",
             "torch.arange(self.n_copies, device=x.device, dtype=x.dtype) + 0.5",
             "torch.arange(self.n_copies, device=x.device, dtype=x.dtype) + 1.0"),
    # unit types / sampling noise: the default 'sigmoid' noise variance becomes unit variance (and vice versa)
    Mutation("NReLU noise-variance options swapped (default gets unit variance)", "rbmlib/units.py",
             'return torch.sigmoid(x) if self.noise_variance == "sigmoid" else torch.ones_like(x)',
             'return torch.ones_like(x) if self.noise_variance == "sigmoid" else torch.sigmoid(x)'),
    # unit types / means: positive-phase 'sample' of Bernoulli hiddens returned as probabilities (CD starts from p)
    Mutation("Bernoulli mean_and_sample returns the probability as the sample", "rbmlib/units.py",
             "return p, self._draw(p, generator)",
             "return p, p"),

    # ------------------------------------------------------------------------------------------------ RBM energies
    # free energy: hidden-bias term of F_h(h) with the wrong sign (breaks exact log Z via hiddens, Gaussian-visible RBMs)
    Mutation("F_h(h) with the hidden-bias term's sign flipped", "rbmlib/rbm.py",
             "return (-(h @ self.hidden_bias) + self.hidden.potential(h).sum(-1)",
             "return ((h @ self.hidden_bias) + self.hidden.potential(h).sum(-1)"),
    # energy: interaction term +vᵀWh instead of −vᵀWh
    Mutation("energy with the interaction term's sign flipped", "rbmlib/rbm.py",
             "- ((v @ self.weight) * h).sum(-1))",
             "+ ((v @ self.weight) * h).sum(-1))"),
    # free energy: visible potential Σψ_v(v) dropped (only 0 for binary units; wrong for Gaussian visibles)
    Mutation("free energy drops the visible units' potential Σψ(v)", "rbmlib/rbm.py",
             "return (-(v @ self.visible_bias) + self.visible.potential(v).sum(-1)\n"
             "                - self.hidden.log_partition(self.hidden_input(v)).sum(-1))",
             "return (-(v @ self.visible_bias)\n"
             "                - self.hidden.log_partition(self.hidden_input(v)).sum(-1))"),

    # ------------------------------------------------------------------------------------------------ samplers
    # persistent state: PCD ignores n_chains and always keeps one chain per row of the first batch
    Mutation("PCD ignores n_chains", "rbmlib/samplers.py",
             "n = self.n_chains or v_data.shape[0]",
             "n = v_data.shape[0]"),
    # fast PCD: chains run on θ instead of θ + θ_fast (fast weights have no effect on sampling)
    Mutation("fast PCD chains run on the slow weights only", "rbmlib/samplers.py",
             "v = self._visible(chain_rbm, chain_rbm.sample_hidden(v, generator), generator)",
             "v = self._visible(rbm, rbm.sample_hidden(v, generator), generator)"),
    # fast PCD: fast weights never decay (θ_fast accumulates all gradients)
    Mutation("fast PCD fast weights do not decay", "rbmlib/samplers.py",
             "self.fast[name].mul_(self.fast_decay).add_(g, alpha=self.fast_learning_rate)",
             "self.fast[name].add_(g, alpha=self.fast_learning_rate)"),
    # fast PCD: fast weights follow −ĝ (repel the chains the wrong way)
    Mutation("fast PCD fast weights follow the negated gradient", "rbmlib/samplers.py",
             "self.fast[name].mul_(self.fast_decay).add_(g, alpha=self.fast_learning_rate)",
             "self.fast[name].mul_(self.fast_decay).add_(g, alpha=-self.fast_learning_rate)"),
    # CD-k off by one: k inner sweeps plus the final reconstruction = k+1 steps
    Mutation("CD-k runs k+1 Gibbs steps", "rbmlib/samplers.py",
             "for _ in range(self.k - 1):",
             "for _ in range(self.k):"),

    # ------------------------------------------------------------------------------------------------ training
    # schedule off-by-one: linear learning rate already lowered in epoch 0 and 0 in the last epoch
    Mutation("linear learning-rate schedule off by one epoch", "rbmlib/train.py",
             "return self.learning_rate * (1.0 - epoch / self.epochs)",
             "return self.learning_rate * (1.0 - (epoch + 1) / self.epochs)"),
    # schedule off-by-one: momentum switches one epoch late
    Mutation("momentum switches one epoch late", "rbmlib/train.py",
             "return self.initial_momentum if epoch < self.momentum_switch_epoch else self.final_momentum",
             "return self.initial_momentum if epoch <= self.momentum_switch_epoch else self.final_momentum"),
    # state across epochs / resume: a resumed fit restarts epoch numbering (schedules and epoch_ wrong)
    Mutation("resumed fit restarts its epoch count at 0", "rbmlib/train.py",
             "epochs = range(self.epoch_, cfg.epochs)",
             "epochs = range(cfg.epochs - self.epoch_)"),
    # update maths: hidden-bias gradient sign flipped
    Mutation("hidden-bias gradient with its sign flipped", "rbmlib/train.py",
             'grads["hidden_bias"] = h_data.mean(0) - h_model.mean(0)',
             'grads["hidden_bias"] = h_model.mean(0) - h_data.mean(0)'),
    # update maths: visible-bias gradient summed over the batch, not averaged (n times too large)
    Mutation("visible-bias gradient not divided by the batch size", "rbmlib/train.py",
             'grads = {"visible_bias": v_data.mean(0) - v_model.mean(0)}',
             'grads = {"visible_bias": v_data.sum(0) - v_model.sum(0)}'),
    # sparsity: penalty added to the hidden-bias gradient instead of subtracted (pushes q away from t)
    Mutation("sparsity penalty on hidden biases with the wrong sign", "rbmlib/train.py",
             'grads["hidden_bias"].sub_(penalty)',
             'grads["hidden_bias"].add_(penalty)'),
    # sparsity: weight-gradient sparsity term with the wrong sign (CD path)
    Mutation("sparsity term in the weight step with the wrong sign", "rbmlib/train.py",
             "step.addr_(v_data.mean(0), penalty, alpha=-learning_rate)",
             "step.addr_(v_data.mean(0), penalty, alpha=learning_rate)"),
    # sparsity: fast-PCD path forgets the sparsity term in ĝ_W (weights and fast weights miss it)
    Mutation("fast-PCD path omits the sparsity term from the weight gradient", "rbmlib/train.py",
             '            if penalty is not None:\n'
             '                grads["weight"].addr_(v_data.mean(0), penalty, alpha=-1.0)\n',
             ''),
    # weight decay: added with the wrong sign in the momentum path (weights grow)
    Mutation("weight decay with the wrong sign (momentum path)", "rbmlib/train.py",
             "step.add_(weight, alpha=-learning_rate * cfg.weight_decay)",
             "step.add_(weight, alpha=learning_rate * cfg.weight_decay)"),
    # update maths: fast-PCD path's ĝ_W not divided by n (weights step n times too far)
    Mutation("fast-PCD path's weight gradient not divided by n", "rbmlib/train.py",
             ".addmm_(v_model.t(), h_model, alpha=-1.0).div_(n)",
             ".addmm_(v_model.t(), h_model, alpha=-1.0)"),
    # shuffling: the random order is drawn but batches are taken in data order
    Mutation("RBM batches taken in data order (permutation unused)", "rbmlib/train.py",
             "yield data.index_select(0, order[first:first + self.config.batch_size].to(data.device))",
             "yield data[first:first + self.config.batch_size]"),
    # resume: generator state not restored (a resumed run draws other batches/samples than an uninterrupted one)
    Mutation("resume does not restore the generator state", "rbmlib/train.py",
             'self.generator.set_state(state["generator"])',
             "self.generator.get_state()"),
    # resume: saved velocities alias the live ones (a checkpoint changes as training continues)
    Mutation("state_dict velocities not copied", "rbmlib/train.py",
             '"velocity": {k: v.clone() for k, v in self.velocity.items()}',
             '"velocity": {k: v for k, v in self.velocity.items()}'),
    # divergence check: NaN parameters pass (only an all-inf parameter is caught)
    Mutation("parameter divergence check misses NaN", "rbmlib/train.py",
             "if not torch.isfinite(p).all():",
             "if torch.isinf(p).all():"),

    # ------------------------------------------------------------------------------------------------ estimators
    # estimators: PLL uses softplus(delta) instead of softplus(−delta): log p(v_i | v_−i) of the flipped bit
    Mutation("pseudo-likelihood scores the flipped bit", "rbmlib/estimators.py",
             "total -= torch.nn.functional.softplus(-delta).sum(1)",
             "total -= torch.nn.functional.softplus(delta).sum(1)"),
    # estimators: PLL with n_bits not rescaled to the all-bits sum
    Mutation("pseudo-likelihood subsample not rescaled by n_visible / k", "rbmlib/estimators.py",
             "return total * (n_visible / bits.shape[1])",
             "return total"),
    # estimators / exact log p: log p(v) = −F(v) + log Z
    Mutation("exact log-likelihood adds log Z", "rbmlib/estimators.py",
             "return -_float64(rbm).free_energy(v.to(torch.float64)) - log_z",
             "return -_float64(rbm).free_energy(v.to(torch.float64)) + log_z"),
    # exact log Z enumeration: states built from bits 1..n of the index (bit 0 never varies; states repeat)
    Mutation("binary-state enumeration skips bit 0 of the index", "rbmlib/estimators.py",
             "((index >> torch.arange(n, device=like.device)) & 1)",
             "((index >> torch.arange(1, n + 1, device=like.device)) & 1)"),
    # AIS base model: asymmetric smoothing lets p exceed 1 for an always-on pixel (logit → NaN) and shifts all biases
    Mutation("base-rate smoothing divides by 1 + eps", "rbmlib/estimators.py",
             "p = (data.to(torch.float64).mean(0) + eps) / (1 + 2 * eps)",
             "p = (data.to(torch.float64).mean(0) + eps) / (1 + eps)"),
    # AIS weights: the base model's biases are ignored in the visible-bias part of the weights
    Mutation("AIS weights ignore the base model's visible biases", "rbmlib/estimators.py",
             "bias_step = rbm.visible_bias - base",
             "bias_step = rbm.visible_bias"),
    # AIS transitions: visible bias interpolated the wrong way (β = 0 uses the target's, β = 1 the base's)
    Mutation("AIS Gibbs step interpolates the visible bias backwards", "rbmlib/estimators.py",
             "torch.lerp(base, rbm.visible_bias, after)",
             "torch.lerp(rbm.visible_bias, base, after)"),
    # AIS base model: log Z_A forgets the hidden units' n_hidden·log 2
    Mutation("base-model log Z misses the hidden units' term", "rbmlib/estimators.py",
             "return (rbm.visible.log_partition(base.to(torch.float64)).sum()\n"
             "            + rbm.hidden.log_partition(zero).sum()).item()",
             "return (rbm.visible.log_partition(base.to(torch.float64)).sum()).item()"),
    # error bands: forward AIS low/high swapped (log_z_low > log_z_high)
    Mutation("forward AIS band's low and high swapped", "rbmlib/estimators.py",
             "return AISResult(log_z_base + log_mean, log_z_base + lower, log_z_base + upper, log_w, log_z_base, n,",
             "return AISResult(log_z_base + log_mean, log_z_base + upper, log_z_base + lower, log_w, log_z_base, n,"),
    # reverse AIS: weights estimate Z_A / Z_B, but treated as Z_B / Z_A
    Mutation("reverse AIS adds log mean w instead of subtracting it", "rbmlib/estimators.py",
             "return AISResult(log_z_base - log_mean, log_z_base - upper, log_z_base - lower, log_w, log_z_base, n,",
             "return AISResult(log_z_base + log_mean, log_z_base - upper, log_z_base - lower, log_w, log_z_base, n,"),
    # error bands: ±3σ of the weights, not of their mean (band √n times too wide)
    Mutation("AIS band uses std of the weights, not of their mean", "rbmlib/estimators.py",
             "mean, spread = w.mean().item(), 3 * w.std().item() / math.sqrt(n)",
             "mean, spread = w.mean().item(), 3 * w.std().item()"),

    # ------------------------------------------------------------------------------------------------ supervised loop
    # shuffling: mini-batches in index order every epoch (generator unused)
    Mutation("supervised fit never shuffles", "rbmlib/supervised.py",
             "order = torch.randperm(n, generator=generator, device=generator.device)",
             "order = torch.arange(n, device=generator.device)"),
    # keep-best: a tie keeps the later epoch (doc: the earlier)
    Mutation("keep-best takes the later epoch on a tie", "rbmlib/supervised.py",
             "if keep_best is not None and record[keep_best[1]] < best:",
             "if keep_best is not None and record[keep_best[1]] <= best:"),
    # keep-best: the saved state aliases the live parameters, so the last epoch is 'restored'
    Mutation("keep-best state not deep-copied (restores the last epoch)", "rbmlib/supervised.py",
             "best, best_state = record[keep_best[1]], copy.deepcopy(keep_best[0].state_dict())",
             "best, best_state = record[keep_best[1]], keep_best[0].state_dict()"),
    # scheduler: stepped once per epoch instead of once per mini-batch
    Mutation("scheduler stepped once per epoch", "rbmlib/supervised.py",
             "if scheduler is not None:\n                scheduler.step()",
             "if scheduler is not None and first == 0:\n                scheduler.step()"),
    # divergence check: explosion compared with this epoch's first batch, not the run's first batch
    Mutation("explosion check relative to the epoch's first loss", "rbmlib/supervised.py",
             "first_loss = history.step_losses[0]",
             "first_loss = step_losses[0]"),
    # optimiser: PReLU coefficients get weight decay too
    Mutation("sgd decays the exempt (PReLU) parameters", "rbmlib/supervised.py",
             '{"params": [p for p in params if id(p) in exempt], "weight_decay": 0.0}',
             '{"params": [p for p in params if id(p) in exempt], "weight_decay": weight_decay}'),
    # loop bound: max_steps allows one extra step
    Mutation("max_steps off by one", "rbmlib/supervised.py",
             "if max_steps is not None and steps >= max_steps:",
             "if max_steps is not None and steps > max_steps:"),

    # ------------------------------------------------------------------------------------------------ verdict rules
    # ties: tied pairs counted in n (as failures) instead of dropped
    Mutation("sign test keeps ties in n", "rbmlib/stats.py",
             "n = k + sum(v < 0 for v in d)",
             "n = len(d)"),
    # one-sided direction: p from the wrong tail
    Mutation("sign test uses the other tail", "rbmlib/stats.py",
             "return (_binomial_tail(n, k) if n else 1.0), k, n",
             "return (_binomial_tail(n, n - k) if n else 1.0), k, n"),
    # minimum effect: 'beats' reproduced on significance alone
    Mutation("beats ignores the minimum effect", "rbmlib/stats.py",
             "if p <= alpha and mean >= min_effect:",
             "if p <= alpha:"),
    # α: 0.10 instead of 0.05 (4 of 4 positive pairs, p = 1/16, would be 'reproduced')
    Mutation("α = 0.10", "rbmlib/stats.py",
             "ALPHA = 0.05",
             "ALPHA = 0.1"),
    # direction: differences oriented so that d > 0 favours B
    Mutation("paired differences oriented the wrong way", "rbmlib/stats.py",
             "return [(y - x) if lower_is_better else (x - y) for x, y in zip(a, b)]",
             "return [(x - y) if lower_is_better else (y - x) for x, y in zip(a, b)]"),
    # non-inferiority: margin subtracted (tests 'better by the margin', not 'not worse by more than it')
    Mutation("not_worse subtracts the margin", "rbmlib/stats.py",
             "shifted = [v + margin for v in d]",
             "shifted = [v - margin for v in d]"),
    # reaches: interval mean ± 1 s.e. instead of ± 2 s.e.
    Mutation("reaches uses mean ± 1 s.e.", "rbmlib/stats.py",
             "half = 0.0 if n == 1 else 2 * se",
             "half = 0.0 if n == 1 else se"),
    # standard error from the population variance (÷ n instead of ÷ n − 1)
    Mutation("mean_se divides the variance by n", "rbmlib/stats.py",
             "var = math.fsum((v - mean) ** 2 for v in x) / (n - 1)",
             "var = math.fsum((v - mean) ** 2 for v in x) / n"),

    # ------------------------------------------------------------------------------------------------ report
    # results written to the wrong place: a rerun notebook overwrites the book's recorded results
    Mutation("results_dir defaults to the book's results", "rbmlib/report.py",
             'return cache_dir("results")',
             "return book_results_dir()"),
    # results written to the wrong place: save_results ignores directory=
    Mutation("save_results ignores directory", "rbmlib/report.py",
             'path = Path(directory if directory is not None else results_dir()) / f"{name}.{profile}.json"',
             'path = Path(results_dir()) / f"{name}.{profile}.json"'),
    # tally: each outcome counted at most once per profile
    Mutation("tally counts an outcome once per profile", "rbmlib/report.py",
             "profile[v.outcome] = profile.get(v.outcome, 0) + 1",
             "profile[v.outcome] = 1"),
    # verdict table: sanity checks shown as claims
    Mutation("verdict_table includes sanity checks", "rbmlib/report.py",
             'for v in verdicts if v.kind == "claim"]',
             "for v in verdicts]"),

    # ------------------------------------------------------------------------------------------------ checksums / atomic writes / caches
    # checksum skipped: only the digest's length is checked, an altered checkpoint loads
    Mutation("checkpoint SHA-256 not compared", "rbmlib/checkpoint.py",
             "if hashlib.sha256(payload).hexdigest().encode() != fields[2]:",
             "if len(fields[2]) != 64:"),
    # md5 check skipped for files found on disk
    Mutation("checked_file skips the md5 check", "rbmlib/data/files.py",
             "            check_md5(path, md5)\n            return path",
             "            return path"),
    # cache not invalidated: an altered decoded .npz is served as long as it has a sha256 entry
    Mutation("decoded cache's SHA-256 not compared", "rbmlib/data/files.py",
             'problem = None if str(arrays.pop("sha256", "")) == _digest(arrays) else "does not match its SHA-256"',
             'problem = None if str(arrays.pop("sha256", "")) else "does not match its SHA-256"'),
    # the shared RBMBOOK_DATA root gets written (downloads go beside the shared data)
    Mutation("downloads for the shared root go into it", "rbmlib/data/files.py",
             'return _cache_base() / "downloads" / dataset if _is_shared_root(root) else root / dataset',
             "return root / dataset"),
    # LFW cache key ignores image sizes and mtimes: replaced images served from a stale cache
    Mutation("LFW cache key ignores image sizes and mtimes", "rbmlib/data/lfw.py",
             r'stamp.update(f"{name} {info.st_size} {info.st_mtime_ns}\n".encode())',
             r'stamp.update(f"{name}\n".encode())'),
    # CIFAR JPEG cache key without the split: test reads the cached train split (or vice versa)
    Mutation("CIFAR JPEG cache shared by train and test", "rbmlib/data/cifar10.py",
             'cache_dir(DATASET) / f"jpeg-{ZIP_MD5}-{split}.npz"',
             'cache_dir(DATASET) / f"jpeg-{ZIP_MD5}.npz"'),

    # ------------------------------------------------------------------------------------------------ data leakage / protocol
    # leakage: training faces include the test fold's pairs and its people
    Mutation("LFW training faces include the test fold", "rbmlib/data/lfw.py",
             "for other in range(self.n_folds) if other != fold\n"
             "                 for pairs in self._folds[other] for a, i, b, j in pairs\n"
             "                 for person, number in ((a, i), (b, j)) if person not in excluded]",
             "for other in range(self.n_folds)\n"
             "                 for pairs in self._folds[other] for a, i, b, j in pairs\n"
             "                 for person, number in ((a, i), (b, j))]"),
    # leakage: people() misses the second person of each pair (mismatched partners not excluded from training)
    Mutation("LFW people() lists only the first person of each pair", "rbmlib/data/lfw.py",
             "for person in (a, b)}",
             "for person in (a,)}"),
    # views mixing: View 1's fold 0 is DevTest and fold 1 DevTrain
    Mutation("LFW View 1 files in the wrong order", "rbmlib/data/lfw.py",
             'VIEWS = {1: ("pairsDevTrain.txt", "pairsDevTest.txt"), 2: ("pairs.txt",)}',
             'VIEWS = {1: ("pairsDevTest.txt", "pairsDevTrain.txt"), 2: ("pairs.txt",)}'),
    # labels: matched pairs labelled 'different' and mismatched 'same'
    Mutation("LFW same/different labels swapped", "rbmlib/data/lfw.py",
             "same = [True] * len(matched) + [False] * len(mismatched)",
             "same = [False] * len(matched) + [True] * len(mismatched)"),
    # parsing: a matched pair's second image is its first image
    Mutation("LFW matched pair reads the first image twice", "rbmlib/data/lfw.py",
             "matched.append((fields[0], int(fields[1]), fields[0], int(fields[2])))",
             "matched.append((fields[0], int(fields[1]), fields[0], int(fields[1])))"),
    # leakage: transform centres rows with their own mean (test statistics used), not the training mean
    Mutation("Standardiser.transform centres with the input's own mean", "rbmlib/data/standardise.py",
             "return (x - self.mean_) / self.std_",
             "return (x - x.mean(dim=0)) / self.std_"),
    # standardise: no σ floor, a constant pixel gives NaN
    Mutation("Standardiser without the σ floor", "rbmlib/data/standardise.py",
             "std.mean().expand_as(std)).clamp_min(self.eps)",
             "std.mean().expand_as(std))"),
    # standardise: per-pixel σ and the NORB average σ swapped
    Mutation("Standardiser per_pixel_std inverted", "rbmlib/data/standardise.py",
             "(std if self.per_pixel_std else std.mean().expand_as(std))",
             "(std.mean().expand_as(std) if self.per_pixel_std else std)"),
    # leakage: the MNIST 'test' split is the training set
    Mutation("MNIST test split reads the training files", "rbmlib/data/mnist.py",
             'prefix = "train" if train else "t10k"',
             'prefix = "train"'),
    # scaling: pixels / 256 (max 255/256, not 1)
    Mutation("MNIST pixels divided by 256", "rbmlib/data/mnist.py",
             "return dataset.data.reshape(len(dataset), -1).float() / 255, dataset.targets",
             "return dataset.data.reshape(len(dataset), -1).float() / 256, dataset.targets"),
    # leakage: the CIFAR JPEG copy's test split is its train split
    Mutation("CIFAR JPEG test split reads train", "rbmlib/data/cifar10.py",
             '_jpeg_copy(root, "train" if train else "test")',
             '_jpeg_copy(root, "train")'),

    # ------------------------------------------------------------------------------------------------ sklearn wrapper
    # random_state ignored: every fit is seeded with the same state
    Mutation("RBMTransformer ignores random_state", "rbmlib/sklearn.py",
             "seed = check_random_state(self.random_state).randint(np.iinfo(np.int32).max)",
             "seed = check_random_state(0).randint(np.iinfo(np.int32).max)"),
    # params not used: k ignored (always 1 Gibbs sweep)
    Mutation("RBMTransformer ignores k", "rbmlib/sklearn.py",
             "SAMPLERS[self.sampler](self.k)",
             "SAMPLERS[self.sampler]()"),
    # params not used: weight_decay ignored
    Mutation("RBMTransformer ignores weight_decay", "rbmlib/sklearn.py",
             "weight_decay=self.weight_decay)",
             "weight_decay=0.0)"),
    # components_ not transposed: shape (n_features, n_components) instead of BernoulliRBM's
    Mutation("components_ not transposed", "rbmlib/sklearn.py",
             "return self.rbm_.weight.detach().t().cpu().numpy()",
             "return self.rbm_.weight.detach().cpu().numpy()"),

    # ------------------------------------------------------------------------------------------------ grid / reproducibility
    # cache not invalidated: the version string no longer enters the cache key
    Mutation("grid cache key ignores version", "rbmlib/grid.py",
             "version = hashlib.sha256((inspect.getsource(fn) + version).encode()).hexdigest()[:16]",
             "version = hashlib.sha256(inspect.getsource(fn).encode()).hexdigest()[:16]"),
    # seeding: the returned generator is seeded with 0 whatever the seed
    Mutation("seed_everything returns a generator seeded with 0", "rbmlib/reproducibility.py",
             "return torch.Generator().manual_seed(seed)",
             "return torch.Generator().manual_seed(0)"),

    # ------------------------------------------------------------------------------------------------ grid: cells_run (resumed-run provenance)
    # cached_at_start: the cache is only checked when progress is shown, so a quiet (progress=False) resumed run
    # reports 0 cells cached at start
    Mutation("cells_run: cached cells only detected with progress on", "rbmlib/grid.py",
             "cached = [cache is not None and call.check_call_in_cache(fn, cell, version) for cell in cells]",
             "cached = [cache is not None and progress and call.check_call_in_cache(fn, cell, version) for cell in cells]"),
    # compute_s: only the cells computed in this execution are summed; those found cached (an earlier, interrupted
    # execution's) lose their recorded durations, which is exactly what the tally is for
    Mutation("cells_run: compute_s drops the cached cells' durations", "rbmlib/grid.py",
             ".duration or 0.0 for cell in cells)",
             ".duration or 0.0 for cell, hit in zip(cells, cached) if not hit)"),
    # cells: uncached (cache=None) runs are counted too, so provenance gains grid_cells after a plain run
    Mutation("cells_run: uncached runs counted in cells", "rbmlib/grid.py",
             "    if cache is not None:  # every cell is in the cache now, with the seconds it took when it was computed\n"
             "        _CELLS_RUN[\"cells\"] += len(cells)\n",
             "    _CELLS_RUN[\"cells\"] += len(cells)\n"
             "    if cache is not None:  # every cell is in the cache now, with the seconds it took when it was computed\n"),
    # tallied in `finally`: a run that raises (interrupted, a failing cell) still adds its cells and cached cells
    Mutation("cells_run: a run that raises is still tallied", "rbmlib/grid.py",
             "    finally:\n"
             "        bar.close()\n"
             "    if cache is not None:  # every cell is in the cache now, with the seconds it took when it was computed\n"
             "        _CELLS_RUN[\"cells\"] += len(cells)\n"
             "        _CELLS_RUN[\"cached_at_start\"] += sum(cached)\n",
             "    finally:\n"
             "        bar.close()\n"
             "        if cache is not None:\n"
             "            _CELLS_RUN[\"cells\"] += len(cells)\n"
             "            _CELLS_RUN[\"cached_at_start\"] += sum(cached)\n"
             "    if cache is not None:  # every cell is in the cache now, with the seconds it took when it was computed\n"),
    # rounding: compute_s rounded to whole seconds (an int) instead of 0.1 s
    Mutation("cells_run: compute_s rounded to whole seconds", "rbmlib/grid.py",
             'return {**_CELLS_RUN, "compute_s": round(_CELLS_RUN["compute_s"], 1)}',
             'return {**_CELLS_RUN, "compute_s": round(_CELLS_RUN["compute_s"])}'),
    # provenance: grid_cells recorded always, zeros included, even when no cached grid cell ran in this process
    Mutation("provenance always records grid_cells", "rbmlib/report.py",
             '**({"grid_cells": grid_cells} if grid_cells["cells"] else {}),',
             '"grid_cells": grid_cells,'),

    # ------------------------------------------------------------------------------------------------ report: cpu_vector_isa
    # cpu_vector_isa (2026-12-02)
    # precedence: AVX2 checked before AVX-512, so an AVX-512 machine (which also has avx2) reports AVX2, not the widest
    Mutation("cpu_vector_isa: AVX2 checked before AVX-512", "rbmlib/report.py",
             '(("avx512f", "AVX-512"), ("avx2", "AVX2"),',
             '(("avx2", "AVX2"), ("avx512f", "AVX-512"),'),
    # wrong cpuinfo line: the extension looked up among the words of "model name", so it is None on every machine
    Mutation("cpu_vector_isa: reads the model name line, not flags", "rbmlib/report.py",
             'flags = set((_cpuinfo("flags") or "").split())',
             'flags = set((_cpuinfo("model name") or "").split())'),
    # provenance: the CPU's model name recorded under cpu_vector_isa (the field that tells two "AMD EPYC" apart)
    Mutation("cpu_vector_isa: provenance records the CPU name instead", "rbmlib/report.py",
             '"cpu_vector_isa": cpu_vector_isa(),',
             '"cpu_vector_isa": cpu,'),

    # ------------------------------------------------------------------------------------------------ blas: the pinned GEMM route (2026-12-02)
    # addmm, β = 0: the bias is added anyway (scaled by 0), so a NaN or inf in it poisons the product torch ignores it for
    Mutation("blas addmm: bias added even when beta = 0 (its NaNs leak)", "rbmlib/blas.py",
             "    if beta != 0:\n        out.add_(bias, alpha=beta)",
             "    out.add_(bias, alpha=beta)"),
    # addmm, α: the product is never scaled, so addmm(..., alpha=a) computes bias·β + A·B
    Mutation("blas addmm: alpha ignored", "rbmlib/blas.py",
             "    if alpha not in (0, 1):\n        out.mul_(alpha)\n",
             ""),
    # addmm, β ≠ 0, 1: the bias is added unscaled
    Mutation("blas addmm: beta ignored (bias added at weight 1)", "rbmlib/blas.py",
             "out.add_(bias, alpha=beta)",
             "out.add_(bias)"),
    # addmm_, β = 0: self scaled by 0 instead of overwritten, so NaN/inf already in self survive (inf·0 = NaN)
    Mutation("blas addmm_: beta = 0 scales self by 0 instead of overwriting it", "rbmlib/blas.py",
             "    if beta == 0:\n        self.zero_()\n    elif beta != 1:",
             "    if beta != 1:"),
    # addmm_: out-of-place add, so self never receives α·(A·B) (CD's in-place gradient steps lose the product)
    Mutation("blas addmm_: product added out of place (self not updated)", "rbmlib/blas.py",
             "return self if product is None else self.add_(product, alpha=alpha)",
             "return self if product is None else self.add(product, alpha=alpha)"),
    # threads: OpenBLAS's thread count set at the first product only, never resynced after torch.set_num_threads
    Mutation("blas: OpenBLAS thread count never resynced with torch", "rbmlib/blas.py",
             'if _state["openblas"].get_num_threads() != threads:',
             'if _state.setdefault("threads", threads) != threads:'),
    # threads: OpenBLAS pinned to one thread whatever torch uses (sums no longer those of torch's thread count)
    Mutation("blas: OpenBLAS always set to 1 thread", "rbmlib/blas.py",
             '_state["openblas"].set_num_threads(threads)',
             '_state["openblas"].set_num_threads(1)'),
    # coretype check: only checks that numpy has an OpenBLAS, so numpy loaded first (other kernels) is routed silently
    Mutation("blas: route_cpu_gemms accepts any OpenBLAS core type", "rbmlib/blas.py",
             "if (found := openblas_coretype()) != CORETYPE:",
             "if (found := openblas_coretype()) is None:"),
    # routed ops: the in-place addmm_ is left on MKL (CD's weight steps no longer go through OpenBLAS)
    Mutation("blas: addmm_ not routed", "rbmlib/blas.py",
             'KERNELS = {"mm": _mm, "addmm": _addmm, "addmm_": _addmm_, "mv": _mv}',
             'KERNELS = {"mm": _mm, "addmm": _addmm, "mv": _mv}'),
    # views: non-contiguous 2-D operands (e.g. x[:, ::2]) handed to numpy as they are, so numpy.matmul takes its
    # non-BLAS loop and adds in another order than the same values made contiguous
    Mutation("blas: non-contiguous 2-D views not made contiguous", "rbmlib/blas.py",
             "    if not (t.is_contiguous() or (t.dim() == 2 and t.t().is_contiguous())):",
             "    if t.dim() == 1 and not t.is_contiguous():"),
    # half precision handed to OpenBLAS: bfloat16 reaches .numpy(), which has no bfloat16, and raises (rewritten on
    # 2026-12-02 when half precision moved to torch's own kernels; it was "bfloat16 not routed via float32")
    Mutation("blas: half precision sent to OpenBLAS", "rbmlib/blas.py",
             "return dtype in (torch.float32, torch.float64) and all(",
             "return dtype in (torch.float32, torch.float64, torch.float16, torch.bfloat16) and all("),
    # pin: warns and returns False whenever torch/numpy is loaded, even when the pin's environment was already set
    # (a second call, or a process started under the pin's environment, is no longer pinned)
    Mutation("pin_cpu_arithmetic: refuses whenever torch/numpy is loaded, pinned env or not", "rbmlib/reproducibility.py",
             "if loaded and not environment_pinned:",
             "if loaded:"),
    # pin: only refuses when both torch and numpy were imported first; torch alone (ATen's ISA already chosen) passes
    Mutation("pin_cpu_arithmetic: warns only when both torch and numpy were loaded first", "rbmlib/reproducibility.py",
             "if loaded and not environment_pinned:",
             "if len(loaded) == 2 and not environment_pinned:"),
    # pinned?: the environment alone counts, so a process with the env set but the GEMMs not routed reports pinned
    Mutation("cpu_arithmetic_pinned ignores whether the GEMMs are routed", "rbmlib/reproducibility.py",
             "for k, v in CPU_ARITHMETIC_ENV.items()) and blas.routed()",
             "for k, v in CPU_ARITHMETIC_ENV.items())"),

    # ------------------------------------------------------------------------------------------------ DAE, verdicts, cpuinfo
    # independent, for reconstruction_cost / _undecided / _cpuinfo (2026-12-02)
    # reconstruction_cost returns the penalised training loss (L1 activation penalty included when l1_activation > 0)
    Mutation("DAE reconstruction_cost includes the L1 activation penalty", "rbmlib/stack.py",
             "return self._costs(x, generator)[0].mean()",
             "return self.loss(x, generator)"),
    # reconstruction_cost drops the generator: its masking noise comes from the global RNG, not the one loss would use
    Mutation("DAE reconstruction_cost ignores the generator", "rbmlib/stack.py",
             "return self._costs(x, generator)[0].mean()",
             "return self._costs(x, None)[0].mean()"),
    # plain (not denoising) auto-encoder: the cost compares the reconstruction with the corrupted input, not the clean x
    Mutation("DAE cost reconstructs the corrupted input instead of the clean one", "rbmlib/stack.py",
             "h = self.encode(self.corrupt(x, generator))",
             "x = self.corrupt(x, generator)\n        h = self.encode(x)"),
    # tanh reconstruction: cross-entropy on σ(f) instead of σ(2f) = (1 + tanh f)/2 (forgets the factor 2)
    Mutation("DAE tanh reconstruction cost uses σ(f) instead of σ(2f)", "rbmlib/stack.py",
             "F.binary_cross_entropy_with_logits(2.0 * pre, 0.5 * (1.0 + x), reduction=\"none\")",
             "F.binary_cross_entropy_with_logits(pre, 0.5 * (1.0 + x), reduction=\"none\")"),
    # inconclusive text: the non-inferiority offset added instead of subtracted (not_worse reports 2 × margin, not 0)
    Mutation("_undecided: assumed effect min_effect + offset", "rbmlib/stats.py",
             "{scale * (min_effect - offset):.{digits}f}{unit}",
             "{scale * (min_effect + offset):.{digits}f}{unit}"),
    # inconclusive text: reports the observed mean (less the offset) as the assumed effect, not the minimum it assumes
    Mutation("_undecided: assumed effect reported as the observed mean", "rbmlib/stats.py",
             "{scale * (min_effect - offset):.{digits}f}{unit}",
             "{scale * (mean - offset):.{digits}f}{unit}"),
    # "cannot reach α" judged on all pairs, ties included, instead of the n untied pairs the sign test used
    Mutation("_undecided: critical count over all pairs, ties included", "rbmlib/stats.py",
             "elif _critical_count(n, alpha) is None:",
             "elif _critical_count(len(d), alpha) is None:"),
    # not_worse hands _undecided the unshifted differences (pairs needed and 'mean ≥ minimum' on the wrong values)
    Mutation("not_worse: _undecided given the unshifted differences", "rbmlib/stats.py",
             "_undecided(shifted, p, n, margin, alpha, scale, digits, unit, offset=margin))",
             "_undecided(d, p, n, margin, alpha, scale, digits, unit, offset=margin))"),
    # not_worse forgets the offset: the assumed effect is stated in shifted units (the margin) instead of the claim's (0)
    Mutation("not_worse: _undecided called without the offset", "rbmlib/stats.py",
             "_undecided(shifted, p, n, margin, alpha, scale, digits, unit, offset=margin))",
             "_undecided(shifted, p, n, margin, alpha, scale, digits, unit))"),
    # wrong cpuinfo line: "model" (the model number, e.g. "85") comes before "model name" and matches first
    Mutation("cpu_name reads the 'model' line instead of 'model name'", "rbmlib/report.py",
             '_cpuinfo("model name") or platform.processor()',
             '_cpuinfo("model") or platform.processor()'),
    # fallback order: platform.processor() (e.g. "x86_64" where uname -p knows it) preferred to /proc/cpuinfo
    Mutation("cpu_name prefers platform.processor() to /proc/cpuinfo", "rbmlib/report.py",
             '_cpuinfo("model name") or platform.processor() or platform.machine()',
             'platform.processor() or _cpuinfo("model name") or platform.machine()'),
    # _cpuinfo value not stripped: the CPU name keeps the space after the colon (and any trailing whitespace)
    Mutation("_cpuinfo returns the value unstripped", "rbmlib/report.py",
             'line.split(":", 1)[1].strip() for line in text.splitlines()',
             'line.split(":", 1)[1] for line in text.splitlines()'),

    # ------------------------------------------------------------------------------------------------ baseline_learned, faster_roofline
    # independent, for baseline_learned and faster_roofline (2026-12-02)
    # _unlearned at the limit: B's mean exactly at baseline_learned counts as learned (<=/>= instead of strict </>)
    Mutation("_unlearned: a B mean equal to the limit counts as learned", "rbmlib/stats.py",
             "if (b_mean < baseline_learned) if lower_is_better else (b_mean > baseline_learned):",
             "if (b_mean <= baseline_learned) if lower_is_better else (b_mean >= baseline_learned):"),
    # _unlearned ignores lower_is_better: "learned" always means below the limit, so higher-is-better baselines are
    # judged backwards (a B above the limit is flagged, one that never left chance passes)
    Mutation("_unlearned: learned always means below the limit (lower_is_better ignored)", "rbmlib/stats.py",
             "if (b_mean < baseline_learned) if lower_is_better else (b_mean > baseline_learned):",
             "if b_mean < baseline_learned:"),
    # beats checks A's mean against the limit instead of B's (a good A hides a B that never learned)
    Mutation("beats: baseline_learned checked on A's mean instead of B's", "rbmlib/stats.py",
             '        rule += "; reproduced only if B\'s setting was validated, not reproduced only if A\'s was"\n'
             "    unlearned = _unlearned(b, baseline_learned, lower_is_better, scale, digits, unit)",
             '        rule += "; reproduced only if B\'s setting was validated, not reproduced only if A\'s was"\n'
             "    unlearned = _unlearned(a, baseline_learned, lower_is_better, scale, digits, unit)"),
    # not_worse applies the guard after the REPRODUCED return: matching a B that never learned is still reproduced
    Mutation("not_worse: unlearned-B guard after the REPRODUCED return", "rbmlib/stats.py",
             "    if unlearned:\n"
             "        return Decision(Outcome.INCONCLUSIVE, evidence, rule, unlearned)\n"
             "    if p <= alpha:\n"
             "        return Decision(Outcome.REPRODUCED, evidence, rule)\n",
             "    if p <= alpha:\n"
             "        return Decision(Outcome.REPRODUCED, evidence, rule)\n"
             "    if unlearned:\n"
             "        return Decision(Outcome.INCONCLUSIVE, evidence, rule, unlearned)\n"),
    # the rule text names the limit unscaled (0.90 where the claim's units read 90.00 pp)
    Mutation("_level: the limit and B's mean not scaled", "rbmlib/stats.py",
             'return f"{scale * value:.{digits}f}{\'%\' if unit.strip() == \'pp\' else unit}"',
             'return f"{value:.{digits}f}{\'%\' if unit.strip() == \'pp\' else unit}"'),
    # faster_roofline compares across thread counts: a 1-thread row is held to the 2-thread GEMM epoch
    Mutation("faster_roofline: twins at any thread count", "benchmarks/cd1_mnist.py",
             'if r is not run and r["threads"] == run["threads"] and r["device"] == run["device"]]',
             'if r is not run and r["device"] == run["device"]]'),
    # faster_roofline's comparison inverted: the other setting's roofline used when it is the slower one
    Mutation("faster_roofline: other setting used when slower", "benchmarks/cd1_mnist.py",
             "return min(twins) if twins and min(twins) < own else None",
             "return min(twins) if twins and min(twins) > own else None"),
    # the run's own GEMM epoch taken as its fastest round, not its median (the other run's median is compared with a
    # minimum, so a faster other setting is missed and the row stays paired)
    Mutation("faster_roofline: own roofline is its fastest epoch, not its median", "benchmarks/cd1_mnist.py",
             'own = statistics.median(run["seconds_per_epoch"]["roofline"])',
             'own = min(run["seconds_per_epoch"]["roofline"])'),
    # the best-GEMM bound row keeps the run's own roofline epoch even where the other setting's is faster
    Mutation("summarise: best-GEMM bound row ignores the faster roofline", "benchmarks/cd1_mnist.py",
             '"roofline": (faster if faster is not None else statistics.median(times["roofline"])) / bound,',
             '"roofline": statistics.median(times["roofline"]) / bound,'),
    # independent, for beats_bounded(not_learned=) (2026-12-02)
    # beats_bounded checks not_learned after both decisions: a significant win or loss against a dud still decides
    Mutation("beats_bounded: not_learned guard after the NOT_REPRODUCED return", "rbmlib/stats.py",
             "    if not_learned:\n"
             "        return Decision(Outcome.INCONCLUSIVE, evidence, rule, f\"{not_learned}: a model that never learned tests \"\n"
             "                                                              \"nothing about its method\")\n"
             "    if untrusted:\n"
             "        return Decision(Outcome.INCONCLUSIVE, evidence, rule, f\"the intervals are not trusted: {untrusted}\")\n"
             "    if p_a <= alpha and math.fsum(worst) / n >= min_effect:\n"
             "        return Decision(Outcome.REPRODUCED, evidence, rule)\n"
             "    if p_b <= alpha:\n"
             "        return Decision(Outcome.NOT_REPRODUCED, evidence, rule, \"B's interval lies above A's in significantly many pairs\")\n",
             "    if untrusted:\n"
             "        return Decision(Outcome.INCONCLUSIVE, evidence, rule, f\"the intervals are not trusted: {untrusted}\")\n"
             "    if p_a <= alpha and math.fsum(worst) / n >= min_effect:\n"
             "        return Decision(Outcome.REPRODUCED, evidence, rule)\n"
             "    if p_b <= alpha:\n"
             "        return Decision(Outcome.NOT_REPRODUCED, evidence, rule, \"B's interval lies above A's in significantly many pairs\")\n"
             "    if not_learned:\n"
             "        return Decision(Outcome.INCONCLUSIVE, evidence, rule, f\"{not_learned}: a model that never learned tests \"\n"
             "                                                              \"nothing about its method\")\n"),
    # beats_bounded's not_learned verdict is NOT_TESTABLE instead of inconclusive (the reason text is unchanged)
    Mutation("beats_bounded: not_learned gives NOT_TESTABLE instead of INCONCLUSIVE", "rbmlib/stats.py",
             "return Decision(Outcome.INCONCLUSIVE, evidence, rule, f\"{not_learned}: a model that never learned tests \"",
             "return Decision(Outcome.NOT_TESTABLE, evidence, rule, f\"{not_learned}: a model that never learned tests \""),
    # beats_bounded's not_learned reason drops the caller's text (which model never learned is no longer said)
    Mutation("beats_bounded: not_learned reason drops the caller's text", "rbmlib/stats.py",
             "f\"{not_learned}: a model that never learned tests \"",
             "f\"a model that never learned tests \""),
    # independent, for refresh_verdict_texts' refusal, cd1_anatomy's summary and cd1_mnist's own-roofline column (2026-12-03)
    # refresh_verdict_texts compares only the outcome: a verdict whose kind would change is refreshed, not refused
    Mutation("refresh_verdict_texts: a changed kind is not refused", "rbmlib/report.py",
             "for key in (\"outcome\", \"kind\") if saved.get(key) != now[key]]",
             "for key in (\"outcome\",) if saved.get(key) != now[key]]"),
    # refresh_verdict_texts refuses only after rewriting the file: the texts of a run whose rule changed are replaced
    Mutation("refresh_verdict_texts: refuses after the file is rewritten", "rbmlib/report.py",
             "    if moved:\n"
             "        raise ValueError(f\"{path.name}: refreshing would change {len(moved)} outcome(s) or kind(s) (\"\n"
             "                         + \"; \".join(moved) + \"): the rule changed, so redo the run instead of refreshing its texts\")\n"
             "    changed = 0\n"
             "    for saved, now in zip(payload[\"verdicts\"], fresh):\n"
             "        for key in (\"evidence\", \"rule_text\", \"reason\"):\n"
             "            if saved.get(key) != now[key]:\n"
             "                saved[key], changed = now[key], changed + 1\n"
             "    if changed:\n"
             "        _write_results(path, payload)\n",
             "    changed = 0\n"
             "    for saved, now in zip(payload[\"verdicts\"], fresh):\n"
             "        for key in (\"evidence\", \"rule_text\", \"reason\"):\n"
             "            if saved.get(key) != now[key]:\n"
             "                saved[key], changed = now[key], changed + 1\n"
             "    if changed:\n"
             "        _write_results(path, payload)\n"
             "    if moved:\n"
             "        raise ValueError(f\"{path.name}: refreshing would change {len(moved)} outcome(s) or kind(s) (\"\n"
             "                         + \"; \".join(moved) + \"): the rule changed, so redo the run instead of refreshing its texts\")\n"),
    # refresh_verdict_texts forgets the reason: only evidence and rule text are rewritten (and counted)
    Mutation("refresh_verdict_texts: the reason is not refreshed", "rbmlib/report.py",
             "for key in (\"evidence\", \"rule_text\", \"reason\"):",
             "for key in (\"evidence\", \"rule_text\"):"),
    # refresh_verdict_texts' refusal lists the old and new outcomes but not which claim they belong to
    Mutation("refresh_verdict_texts: refusal does not name the claim", "rbmlib/report.py",
             "moved = [f\"{saved.get('claim')!r}: {saved.get(key)} → {now[key]}\"",
             "moved = [f\"{saved.get(key)} → {now[key]}\""),
    # cd1_anatomy's summary: each piece's time is the mean over rounds, not the median (a slow round drags it)
    Mutation("cd1_anatomy summarise: mean per piece instead of median", "benchmarks/cd1_anatomy.py",
             "median = {name: statistics.median(t) for name, t in run[\"microseconds_per_call\"].items()}",
             "median = {name: statistics.mean(t) for name, t in run[\"microseconds_per_call\"].items()}"),
    # cd1_anatomy's what-if share: the two-stream draw subtracted and the one-stream draw added back (swapped)
    Mutation("cd1_anatomy summarise: two-stream what-if swaps the draws", "benchmarks/cd1_anatomy.py",
             "median[\"gemms\"] / (update - draw + split)}",
             "median[\"gemms\"] / (update - split + draw)}"),
    # cd1_anatomy's lean share divided by the whole update's time (copy of the line above)
    Mutation("cd1_anatomy summarise: lean share uses the update's time", "benchmarks/cd1_anatomy.py",
             "\"roofline_share_lean\": median[\"gemms\"] / median[\"lean\"]",
             "\"roofline_share_lean\": median[\"gemms\"] / update"),
    # cd1_mnist's own-roofline column inverted: contender epoch ÷ GEMM epoch (reads >100% for every row)
    Mutation("cd1_mnist summarise: own-roofline ratio inverted", "benchmarks/cd1_mnist.py",
             "\"roofline_own_paired\": paired_ratio(times[\"roofline\"], seconds),",
             "\"roofline_own_paired\": paired_ratio(seconds, times[\"roofline\"]),"),
    # cd1_mnist's own-roofline column copies the % of roofline column: the other setting's faster roofline is used
    Mutation("cd1_mnist summarise: own-roofline column uses the faster roofline", "benchmarks/cd1_mnist.py",
             "\"roofline_own_paired\": paired_ratio(times[\"roofline\"], seconds),",
             "\"roofline_own_paired\": (paired_ratio(times[\"roofline\"], seconds) if faster is None\n"
             "                                    else faster / statistics.median(seconds)),"),
    # ------------------------------------------------------------------------------------------------ independent, for
    # grid.cache_folder, grid.code_version over module_code, AIS's float64 binary update and rbmlib's submodules (2026-12-03)
    # the setting's name misspelled: RBMBOOK_GRID_CACHE is never read, make long's cells land in ~/.cache, not the checkout
    Mutation("grid cache: setting read from RBMBOOK_CACHE_GRID", "rbmlib/grid.py",
             'GRID_CACHE_ENV = "RBMBOOK_GRID_CACHE"',
             'GRID_CACHE_ENV = "RBMBOOK_CACHE_GRID"'),
    # the default folder drops the grid/ level: <RBMBOOK_CACHE>/<name>, mixed with the decoded data sets
    Mutation("grid cache: default folder without grid/", "rbmlib/grid.py",
             'cache_dir("grid", name)',
             'cache_dir(name)'),
    # run keeps the old cache_dir line: cache_folder exists but the cells ignore RBMBOOK_GRID_CACHE
    Mutation("grid cache: run ignores cache_folder", "rbmlib/grid.py",
             'memory = joblib.Memory(folder, verbose=0)',
             'from .data.files import cache_dir\n'
             '\n'
             '        memory = joblib.Memory(cache_dir("grid", cache), verbose=0)'),
    # code_version back to the raw bytes: rewording a docstring or comment invalidates every cached cell
    Mutation("code_version: hashes raw module bytes", "rbmlib/grid.py",
             'digest.update(module_code(path.read_text("utf-8")).encode())',
             'digest.update(path.read_bytes())'),
    # code_version ignores its texts: editing the notebook's protocol cells keeps serving stale cells
    Mutation("code_version: texts not hashed", "rbmlib/grid.py",
             '    for text in texts:\n'
             '        digest.update(text.encode())\n',
             ''),
    # the precision condition inverted: float64 on the pinned (AVX2) path, whose arithmetic must not change
    # (the three targets below were reworded on 2026-12-03 when the rule gained the vendor, meanings kept)
    Mutation("AIS update precision: condition inverted", "rbmlib/estimators.py",
             '_aten_capability() == "AVX512" and _cpu_vendor()',
             '_aten_capability() != "AVX512" and _cpu_vendor()'),
    # compared to the docs' spelling, not torch's "AVX512": the float64 path never runs on AVX-512 machines
    Mutation("AIS update precision: compares to 'AVX-512'", "rbmlib/estimators.py",
             '_aten_capability() == "AVX512" and _cpu_vendor()',
             '_aten_capability() == "AVX-512" and _cpu_vendor()'),
    # the device check dropped: CUDA tensors are also promoted to float64 on an AVX-512 host
    Mutation("AIS update precision: device check dropped", "rbmlib/estimators.py",
             'slow_float32 = x.device.type == "cpu" and _aten_capability()',
             'slow_float32 = _aten_capability()'),
    # the float64 cast dropped on the result: the pinned path returns float32 log-weights per row
    Mutation("AIS update precision: result not cast to float64", "rbmlib/estimators.py",
             'return change.sum(-1).to(torch.float64)',
             'return change.sum(-1)'),
    # sigmoid at the new temperature: log1p(sigmoid(after·x)·expm1(d)) is not softplus(after·x) − softplus(before·x)
    Mutation("AIS update precision: sigmoid at after instead of before", "rbmlib/estimators.py",
             'torch.sigmoid(before * xw)',
             'torch.sigmoid(after * xw)'),
    # grid left out of the tuple: rbmlib.grid.run(...) after a bare `import rbmlib` raises AttributeError
    Mutation("rbmlib attributes: grid missing from _SUBMODULES", "rbmlib/__init__.py",
             '"estimators", "grid", "initialisation"',
             '"estimators", "initialisation"'),
    # submodules imported eagerly: `import rbmlib` loads torch before pin_cpu_arithmetic() can run
    Mutation("rbmlib attributes: eager submodule import loads torch", "rbmlib/__init__.py",
             'from .reproducibility import pin_cpu_arithmetic\n',
             'from .reproducibility import pin_cpu_arithmetic\n'
             'from . import data, estimators, grid  # noqa: F401  (rbmlib.data.load_mnist(), rbmlib.grid.run(...))\n'),
    # the vendor test dropped: an AVX-512 Intel Xeon also runs the update in float64, 2.5x slower than its float32
    Mutation("AIS update precision: vendor test dropped", "rbmlib/estimators.py",
             ' and _cpu_vendor() == "AuthenticAMD"',
             ''),
    # `or` for `and`: any AMD CPU (even on the pinned AVX2 path, or a CUDA tensor on an AMD host) is promoted to float64
    Mutation("AIS update precision: capability or vendor", "rbmlib/estimators.py",
             '_aten_capability() == "AVX512" and _cpu_vendor() == "AuthenticAMD"',
             '_aten_capability() == "AVX512" or _cpu_vendor() == "AuthenticAMD"'),
    # cpu_vendor reads the model name ("AMD EPYC ..."), never "AuthenticAMD": AVX-512 EPYCs keep the slow float32 update
    Mutation("cpu vendor: reads the model name field", "rbmlib/report.py",
             'return _cpuinfo("vendor_id")',
             'return _cpuinfo("model name")'),
    # _claims_over / first profile only: claims only a long or paper run has get no row
    Mutation("_claims_over: only the first profile's claims", "rbmlib/report.py",
             '    for verdicts in by_claim.values():\n'
             '        for claim_, v in verdicts.items():\n'
             '            claims.setdefault(claim_, v)',
             '    for verdicts in list(by_claim.values())[:1]:\n'
             '        for claim_, v in verdicts.items():\n'
             '            claims.setdefault(claim_, v)'),
    # _claims_over / duplicates: flattened without de-duplicating, one row per claim per profile that has it
    Mutation("_claims_over: one row per profile (duplicated claims)", "rbmlib/report.py",
             '    claims: dict[str, Verdict] = {}\n'
             '    for verdicts in by_claim.values():\n'
             '        for claim_, v in verdicts.items():\n'
             '            claims.setdefault(claim_, v)\n'
             '    return list(claims.values())',
             '    return [v for verdicts in by_claim.values() for v in verdicts.values()]'),
    # code_status / wrong scheme: always compared with the current scheme's hash, so every older (bytes) file is stale
    Mutation("code_status: compares under the current scheme, not the recorded one", "rbmlib/report.py",
             'code_hash(payload["name"], root, recorded_scheme(payload))[0]',
             'code_hash(payload["name"], root)[0]'),

    # ------------------------------------------------------------------------------------------------ validation gates
    # beats / A and B swapped: A's unvalidated reason gates "reproduced", B's gates "not reproduced"
    Mutation("beats: validation gates swapped (A's reason blocks reproduced)", "rbmlib/stats.py",
             '        if b_unvalidated:\n'
             '            return Decision(Outcome.INCONCLUSIVE, evidence, rule, f"A beats B as tuned, but B\'s setting was not "\n'
             '                                                                  f"validated ({b_unvalidated})")\n'
             '        return Decision(Outcome.REPRODUCED, evidence, rule)\n'
             '    if p_other <= alpha:\n'
             '        if a_unvalidated:\n'
             '            return Decision(Outcome.INCONCLUSIVE, evidence, rule, f"B beats A as tuned, but A\'s setting was not "\n'
             '                                                                  f"validated ({a_unvalidated})")',
             '        if a_unvalidated:\n'
             '            return Decision(Outcome.INCONCLUSIVE, evidence, rule, f"A beats B as tuned, but B\'s setting was not "\n'
             '                                                                  f"validated ({a_unvalidated})")\n'
             '        return Decision(Outcome.REPRODUCED, evidence, rule)\n'
             '    if p_other <= alpha:\n'
             '        if b_unvalidated:\n'
             '            return Decision(Outcome.INCONCLUSIVE, evidence, rule, f"B beats A as tuned, but A\'s setting was not "\n'
             '                                                                  f"validated ({b_unvalidated})")'),
    # beats / None vs "": b_unvalidated="" (B validated) still blocks "reproduced"
    Mutation("beats: b_unvalidated \"\" (validated) still blocks reproduced", "rbmlib/stats.py",
             '        if b_unvalidated:\n',
             '        if b_unvalidated is not None:\n'),
    # beats / one flag for both directions: B's reason also blocks "not reproduced"
    Mutation("beats: B's unvalidated reason also blocks not reproduced", "rbmlib/stats.py",
             '        if a_unvalidated:\n',
             '        if a_unvalidated or b_unvalidated:\n'),
    # beats / wrong outcome: an unvalidated B still gives REPRODUCED (with the reason attached)
    Mutation("beats: unvalidated B gives REPRODUCED with a reason, not INCONCLUSIVE", "rbmlib/stats.py",
             'return Decision(Outcome.INCONCLUSIVE, evidence, rule, f"A beats B as tuned',
             'return Decision(Outcome.REPRODUCED, evidence, rule, f"A beats B as tuned'),
    # decide / gate dropped on recomputation: the stored unvalidated / untrusted reasons are filtered out of the inputs
    Mutation("decide: stored unvalidated/untrusted inputs dropped", "rbmlib/stats.py",
             'return RULES[rule](**inputs)',
             'return RULES[rule](**{k: v for k, v in inputs.items()\n'
             '                           if k not in ("a_unvalidated", "b_unvalidated", "untrusted")})'),
    # beats_bounded / None vs "": untrusted="" (intervals trusted) still makes every claim inconclusive
    Mutation("beats_bounded: untrusted \"\" (trusted) still blocks the claim", "rbmlib/stats.py",
             '    if untrusted:\n',
             '    if untrusted is not None:\n'),
    # beats_bounded / order: untrusted checked after the REPRODUCED return, so untrusted intervals can still reproduce
    Mutation("beats_bounded: untrusted checked only after the reproduced return", "rbmlib/stats.py",
             '    if untrusted:\n'
             '        return Decision(Outcome.INCONCLUSIVE, evidence, rule, f"the intervals are not trusted: {untrusted}")\n'
             '    if p_a <= alpha and math.fsum(worst) / n >= min_effect:\n'
             '        return Decision(Outcome.REPRODUCED, evidence, rule)\n',
             '    if p_a <= alpha and math.fsum(worst) / n >= min_effect:\n'
             '        return Decision(Outcome.REPRODUCED, evidence, rule)\n'
             '    if untrusted:\n'
             '        return Decision(Outcome.INCONCLUSIVE, evidence, rule, f"the intervals are not trusted: {untrusted}")\n'),

    # ------------------------------------------------------------------------------------------------ machines.json
    # _record_computed / cached cells too: a cell found in the cache gets this run's machine, replacing its entry
    Mutation("record_machine: cached cells recorded too", "rbmlib/grid.py",
             '    if not cached[index]:\n'
             '        record_machine(folder, cell, version, scheduler)',
             '    if cached is not None:\n'
             '        record_machine(folder, cell, version, scheduler)'),
    # run / nothing recorded: the in-process (default) path never passes the callback to _collect
    Mutation("run: serial path records no machine", "rbmlib/grid.py",
             'results = _collect((call(fn, cell, version) for cell in cells), cells, bar, log, computed)',
             'results = _collect((call(fn, cell, version) for cell in cells), cells, bar, log)'),
    # record_machine / overwrite: the file rewritten with this cell alone, earlier entries lost
    Mutation("record_machine: machines.json overwritten, not updated", "rbmlib/grid.py",
             'machines = json.loads(path.read_text()) if path.exists() else {}',
             'machines = {}'),
    # record_machine / key: entries keyed by the cell alone, so another version's entry for the cell is replaced
    Mutation("record_machine: key without the version", "rbmlib/grid.py",
             'machines[f"{version} {json.dumps(cell, sort_keys=True, default=str)}"] = {',
             'machines[json.dumps(cell, sort_keys=True, default=str)] = {'),

    # ------------------------------------------------------------------------------------------------ independent, for
    # report.computing_modules / code_hash / _claims_over / status tables, grid.NOT_COMPUTING / record_machine (2026-12-03)
    # (these 12 survived the tests of 2026-12-03; tests added the same day catch them)
    # computing_modules / filter dropped: report.py, grid.py, stats.py … hashed too, a reworded table invalidates results
    Mutation("computing_modules: NOT_COMPUTING filter dropped", "rbmlib/report.py",
             'return [(relative, path) for relative, path in inside if relative not in NOT_COMPUTING]',
             'return [(relative, path) for relative, path in inside]'),
    # computing_modules / wrong path form: paths taken relative to the package's parent ("rbmlib/report.py"), so no
    # NOT_COMPUTING name matches and code_hash hashes "rbmlib/rbmlib/…"
    Mutation("computing_modules: paths relative to the package's parent", "rbmlib/report.py",
             'inside = sorted((path.relative_to(package).as_posix(), path) for path in package.rglob("*.py"))',
             'inside = sorted((path.relative_to(package.parent).as_posix(), path) for path in package.rglob("*.py"))'),
    # computing_modules / sort lost: rglob's directory order, so the hash depends on the file system, not the code
    Mutation("computing_modules: not sorted (rglob order)", "rbmlib/report.py",
             'inside = sorted((path.relative_to(package).as_posix(), path) for path in package.rglob("*.py"))',
             'inside = [(path.relative_to(package).as_posix(), path) for path in package.rglob("*.py")]'),
    # computing_modules / subpackage skipped: glob for rglob, rbmlib/data/*.py (the data loading) no longer hashed
    Mutation("computing_modules: data/ subpackage not walked (glob)", "rbmlib/report.py",
             'for path in package.rglob("*.py"))',
             'for path in package.glob("*.py"))'),
    # code_hash / path left out: moving or renaming a module (same code) keeps the hash
    Mutation("code_hash: module path not in the digest", "rbmlib/report.py",
             'digest.update(f"rbmlib/{relative_path}\\0".encode() + code + b"\\0")',
             'digest.update(code + b"\\0")'),
    # code_hash / docstrings kept: the current scheme hashes the raw text, so rewording a docstring makes results stale
    Mutation("code_hash: current scheme hashes raw text, not module_code", "rbmlib/report.py",
             'else module_code(path.read_text("utf-8")).encode()',
             'else path.read_text("utf-8").encode()'),
    # _claims_over / last wins: a claim's row takes the last profile's verdict (kind, wording, paper) instead of ci's
    Mutation("_claims_over: keeps the last profile's verdict", "rbmlib/report.py",
             'claims.setdefault(claim_, v)',
             'claims[claim_] = v'),
    # status_tables / wrong profile's code status: every column marked as the ci run's (a stale long run looks current)
    Mutation("status_tables: every column gets the ci run's code status", "rbmlib/report.py",
             '*(_run_cell(by_claim[p].get(v.claim), runs[p], status[p]) for p in PROFILES_SHOWN)]\n'
             '                for v in _claims_over(by_claim)]\n'
             '        tables.append(',
             '*(_run_cell(by_claim[p].get(v.claim), runs[p], status["ci"]) for p in PROFILES_SHOWN)]\n'
             '                for v in _claims_over(by_claim)]\n'
             '        tables.append('),
    # profile_table / wrong profile's verdict: each column shows the row's (first profile's) verdict where it has the claim
    Mutation("profile_table: every column shows the first profile's verdict", "rbmlib/report.py",
             'rows = [[v.claim, *(_run_cell(by_claim[p].get(v.claim), runs[p], status[p])',
             'rows = [[v.claim, *(_run_cell(v if v.claim in by_claim[p] else None, runs[p], status[p])'),
    # NOT_COMPUTING / report.py left out: editing how results are shown invalidates every result and cached cell
    Mutation("NOT_COMPUTING: report.py missing", "rbmlib/grid.py",
             '"profiles.py", "report.py", "stats.py")',
             '"profiles.py", "stats.py")'),
    # run / un-hashed version: entries keyed by the caller's version, not the hashed one that keys the cache
    Mutation("run: machines recorded under the caller's un-hashed version", "rbmlib/grid.py",
             '        version = hashlib.sha256((inspect.getsource(fn) + version).encode()).hexdigest()[:16]\n'
             '    cached = [cache is not None and call.check_call_in_cache(fn, cell, version) for cell in cells]\n'
             '    log = _Log(desc, cached, progress)\n'
             '    if cache is not None:\n'
             '        computed = functools.partial(_record_computed, folder, cached, version, scheduler)\n',
             '        given, version = version, hashlib.sha256((inspect.getsource(fn) + version).encode()).hexdigest()[:16]\n'
             '    cached = [cache is not None and call.check_call_in_cache(fn, cell, version) for cell in cells]\n'
             '    log = _Log(desc, cached, progress)\n'
             '    if cache is not None:\n'
             '        computed = functools.partial(_record_computed, folder, cached, given, scheduler)\n'),
    # record_machine / Dask: the caller's CPU named for a cell a Dask worker computed
    Mutation("record_machine: Dask cells named with the caller's CPU", "rbmlib/grid.py",
             '"machine": f"Dask cluster at {scheduler}" if scheduler else cpu_name(),',
             '"machine": cpu_name(),'),

    # ------------------------------------------------------------------------------------------------ resume and data files (helper-48)
    # resume / dtype: the sampler is moved to the RBM's device only, so float64 chains and fast weights stay float64
    # in a float32 trainer (and vice versa)
    Mutation("resume: sampler moved to the RBM's device but not its dtype", "rbmlib/train.py",
             "self.sampler.to(self.rbm.weight)  #",
             "self.sampler.to(self.rbm.weight.device)  #"),
    # resume / all-or-nothing: the sampler's state is tried on the live sampler, so a later failure (velocities,
    # generator) leaves this trainer's chains replaced
    Mutation("resume: saved sampler state validated on the live sampler, not a copy", "rbmlib/train.py",
             'copy.deepcopy(self.sampler).load_state_dict(state["sampler"])',
             'self.sampler.load_state_dict(state["sampler"])'),
    # resume / shape check: only the number of dimensions is compared, so a velocity of the wrong length passes the
    # check and fails (or broadcasts) in copy_ after the RBM and sampler were already replaced
    Mutation("resume: velocity shape check compares only the number of dimensions", "rbmlib/train.py",
             "if value.shape != expected[name].shape:",
             "if value.dim() != expected[name].dim():"),
    # resume / config warning: a changed epochs (extending a resumed run) warns too
    Mutation("resume: config-difference warning fires for a changed epochs", "rbmlib/train.py",
             'if k != "epochs" and k in saved and saved[k] != v]',
             'if k in saved and saved[k] != v]'),
    # resume / key check: a state lacking a velocity (or the sparsity estimate) is accepted, the old value kept
    Mutation("resume: missing saved velocities accepted (subset check)", "rbmlib/train.py",
             "if tensors.keys() != expected.keys():",
             "if not tensors.keys() <= expected.keys():"),
    # checked_file / wrong exception: the copies' md5 failures are not passed on, so a corrupt shared copy whose
    # fresh download fails is reported as MissingDataError
    Mutation("checked_file: corrupt shared copy + failed download raises MissingDataError", "rbmlib/data/files.py",
             "return fetch(urls, download_dir(root, dataset) / name, md5, dataset, root, corrupt=failures)",
             "return fetch(urls, download_dir(root, dataset) / name, md5, dataset, root)"),
    # fetch / lost details: the CorruptDataError no longer names why the download failed
    Mutation("fetch: CorruptDataError drops the download's reasons", "rbmlib/data/files.py",
             '" A fresh copy could not be downloaded (" + "; ".join(failures)\n'
             '                               + "): "',
             '" A fresh copy could not be downloaded: "'),
    # checked_file / shared copy overwritten: the fresh copy is downloaded over the first (shared) corrupt copy
    Mutation("checked_file: fresh download written over the corrupt shared copy", "rbmlib/data/files.py",
             "return fetch(urls, download_dir(root, dataset) / name, md5, dataset, root, corrupt=failures)",
             "return fetch(urls, candidates[0], md5, dataset, root, corrupt=failures)"),
    # good_copy_remedy / wrong folder: for the shared root it tells the user to put the copy in the read-only root
    Mutation("good_copy_remedy: shared root's remedy names the shared folder", "rbmlib/data/files.py",
             'f"{download_dir(root, dataset)} (under ${CACHE_ENV}), where it is looked for too"',
             'f"{root / dataset} (under ${CACHE_ENV}), where it is looked for too"'),
    # checked_file / non-shared root: a corrupt copy in a private root is silently downloaded over (replaced) instead
    # of a CorruptDataError that leaves it in place
    Mutation("checked_file: corrupt copy in a non-shared root replaced by a download", "rbmlib/data/files.py",
             "if download and urls and shared:",
             "if download and urls:"),

    # ------------------------------------------------------------------------------------------------ grid.data_version
    # data_version / dtype: the header names only the shape, so tensors with the same bytes but another dtype (zeros
    # as int64 and as float64, or a float32 tensor viewed as int32) get the same key
    Mutation("grid.data_version: dtype dropped from the hash", "rbmlib/grid.py",
             'digest.update(f"{t.dtype} {tuple(t.shape)}\\0".encode())',
             'digest.update(f"{tuple(t.shape)}\\0".encode())'),
    # data_version / shape: the header names only the dtype, so a reshaped tensor (same values, 2×3 vs 3×2 or a
    # flattened split) gets the same key
    Mutation("grid.data_version: shape dropped from the hash", "rbmlib/grid.py",
             'digest.update(f"{t.dtype} {tuple(t.shape)}\\0".encode())',
             'digest.update(f"{t.dtype}\\0".encode())'),
    # data_version / first tensor only: a change to a second tensor (labels, a test split) keeps the key
    Mutation("grid.data_version: only the first tensor hashed", "rbmlib/grid.py",
             "    for t in tensors:\n"
             "        t = torch.as_tensor(t).detach().cpu().contiguous()\n",
             "    for t in tensors[:1]:\n"
             "        t = torch.as_tensor(t).detach().cpu().contiguous()\n"),
    # data_version / truncated values: only each tensor's first 1024 bytes are hashed, so a change further in (a
    # later row of a data set) keeps the key
    Mutation("grid.data_version: only the first 1024 bytes of each tensor hashed", "rbmlib/grid.py",
             "digest.update(t.reshape(-1).view(torch.uint8).numpy().tobytes())",
             "digest.update(t.reshape(-1).view(torch.uint8).numpy().tobytes()[:1024])"),
    # data_version / order-independent: per-tensor digests are sorted before combining, so swapping two tensors
    # (train and test, data and labels) keeps the key
    Mutation("grid.data_version: tensor order ignored (per-tensor digests sorted)", "rbmlib/grid.py",
             "    digest = hashlib.sha256()\n"
             "    for t in tensors:\n"
             "        t = torch.as_tensor(t).detach().cpu().contiguous()\n"
             '        digest.update(f"{t.dtype} {tuple(t.shape)}\\0".encode())\n'
             "        digest.update(t.reshape(-1).view(torch.uint8).numpy().tobytes())\n"
             "    return digest.hexdigest()[:16]\n",
             "    parts = []\n"
             "    for t in tensors:\n"
             "        t = torch.as_tensor(t).detach().cpu().contiguous()\n"
             "        part = hashlib.sha256()\n"
             '        part.update(f"{t.dtype} {tuple(t.shape)}\\0".encode())\n'
             "        part.update(t.reshape(-1).view(torch.uint8).numpy().tobytes())\n"
             "        parts.append(part.hexdigest())\n"
             "    return hashlib.sha256(\"\".join(sorted(parts)).encode()).hexdigest()[:16]\n"),
    # data_version / memory layout: the tensor's raw storage is hashed (no contiguous copy), so a transposed view or
    # a slice hashes differently from an equal contiguous tensor (and a slice hashes its whole base)
    Mutation("grid.data_version: raw storage hashed, memory layout leaks into the key", "rbmlib/grid.py",
             "        t = torch.as_tensor(t).detach().cpu().contiguous()\n"
             '        digest.update(f"{t.dtype} {tuple(t.shape)}\\0".encode())\n'
             "        digest.update(t.reshape(-1).view(torch.uint8).numpy().tobytes())\n",
             "        t = torch.as_tensor(t).detach().cpu()\n"
             '        digest.update(f"{t.dtype} {tuple(t.shape)}\\0".encode())\n'
             "        digest.update(bytes(t.untyped_storage()))\n"),
]
