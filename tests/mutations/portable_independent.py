"""Mutations of rbmlib.portable and its callers, written without reading tests/ (only run.py's Mutation format)."""
from run import Mutation  # noqa  (run.py imports this list)

MUTATIONS = [
    # ln 2 taken as log10(2): exp and log scale their exponent by the wrong constant
    Mutation("portable: ln 2 as log10 2", "rbmlib/portable.py",
             "_LN_2 = math.log(2.0)", "_LN_2 = math.log10(2.0)"),
    # log2 e not inverted (ln 2 instead of 1/ln 2): exp(x) computes 2^(x ln 2)
    Mutation("portable: log2 e as ln 2", "rbmlib/portable.py",
             "_LOG2_E = 1.0 / _LN_2", "_LOG2_E = _LN_2"),
    # √½ written as ½: ndtr evaluates erfcx(|x|/2) instead of erfcx(|x|/√2)
    Mutation("portable: sqrt(1/2) as 1/2", "rbmlib/portable.py",
             "_SQRT_HALF = math.sqrt(0.5)", "_SQRT_HALF = 0.5"),
    # ndtr picks the wrong branch: the lower tail is used for z >= 0 (Φ(x) becomes 1 − Φ(x))
    Mutation("portable: ndtr branch flipped", "rbmlib/portable.py",
             "torch.where(x < 0, lower, 1.0 - lower)", "torch.where(x >= 0, lower, 1.0 - lower)"),
    # frexp renormalisation off by two: m is doubled but the exponent is incremented instead of decremented
    Mutation("portable: log exponent off by one", "rbmlib/portable.py",
             "e - low.to(e.dtype)", "e + low.to(e.dtype)"),
    # logsumexp without the isinf guard: an all −inf slice gives nan (−inf − −inf) instead of −inf
    Mutation("portable: logsumexp drops isinf guard", "rbmlib/portable.py",
             "    top = torch.where(top.isinf(), 0.0, top)\n", ""),
    # tanh as 2·sigmoid(x) − 1 = tanh(x/2): the factor 2 inside the sigmoid forgotten
    Mutation("portable: tanh as 2 sigmoid(x) - 1", "rbmlib/portable.py",
             "torch.sigmoid(2.0 * x)", "torch.sigmoid(x)"),
    # audit stops counting pow(x, 0.5), which ATen routes to VML's sqrt
    Mutation("portable: audit misses pow 0.5", "rbmlib/portable.py",
             'if name in VML_OPS or (name == "pow" and len(args) > 1 and args[1] == 0.5):',
             "if name in VML_OPS:"),
    # audit does not strip the in-place underscore: exp_, sqrt_, tanh_ ... go uncounted
    Mutation("portable: audit keeps trailing underscore", "rbmlib/portable.py",
             'name = func.overloadpacket.__name__.rstrip("_")', "name = func.overloadpacket.__name__"),
    # VML_OPS forgets exp, so torch.exp calls are not audited
    Mutation("portable: VML_OPS without exp", "rbmlib/portable.py",
             '{"sqrt", "exp", "log",', '{"sqrt", "log",'),
    # NReLU mean reverts to the vendor-dependent torch.special.ndtr
    Mutation("portable: NReLU mean via torch.special.ndtr", "rbmlib/units.py",
             "x * portable.ndtr(z)", "x * torch.special.ndtr(z)"),
    # NReLU mean reverts to the vendor-dependent torch.exp for the Gaussian density
    Mutation("portable: NReLU mean via torch.exp", "rbmlib/units.py",
             "std * portable.exp(-0.5 * z * z - _HALF_LOG_2PI)", "std * torch.exp(-0.5 * z * z - _HALF_LOG_2PI)"),
    # NReLU noise scale (shared by the draw and the mean) reverts to the vendor-dependent torch.sqrt
    Mutation("portable: NReLU sample via torch.sqrt", "rbmlib/units.py",
             "return portable.sqrt(self.variance(x))", "return torch.sqrt(self.variance(x))"),
    # AIS result weights through the vendor-dependent torch.exp
    Mutation("portable: AIS _result via torch.exp", "rbmlib/estimators.py",
             "w = portable.exp(log_w - shift)", "w = torch.exp(log_w - shift)"),
    # exact log Z enumeration through the vendor-dependent torch.logsumexp
    Mutation("portable: exact log Z via torch.logsumexp", "rbmlib/estimators.py",
             "portable.logsumexp(-free_energy(states), 0)", "torch.logsumexp(-free_energy(states), 0)"),
    # base-rate biases through the vendor-dependent torch.logit
    Mutation("portable: base-rate biases via torch.logit", "rbmlib/estimators.py",
             "(portable.log(p) - torch.log1p(-p)).to(data.dtype)", "torch.logit(p).to(data.dtype)"),
    # stack's "tanh" activation back to nn.Tanh (MKL's tanh)
    Mutation("portable: stack tanh activation is nn.Tanh", "rbmlib/stack.py",
             '"tanh": portable.Tanh,', '"tanh": nn.Tanh,'),
    # DAE tanh reconstruction back to torch.tanh (MKL's tanh)
    Mutation("portable: DAE tanh reconstruction via torch.tanh", "rbmlib/stack.py",
             '"tanh": portable.tanh}', '"tanh": torch.tanh}'),
    # activity.ACTIVATIONS forgets portable.Tanh: tanh layers' codes are no longer collected
    Mutation("portable: activity misses portable.Tanh", "rbmlib/activity.py",
             "nn.Tanh, Tanh, nn.Softplus", "nn.Tanh, nn.Softplus"),
]
