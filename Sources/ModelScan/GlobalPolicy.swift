/// How the scanner judges a global (a `module.name` a pickle imports).
///
/// - Allow-listed reconstructors (PyTorch tensor, parameter and storage rebuilding, numpy array and dtype
///   reconstruction, `collections.OrderedDict`, a few builtin containers) produce no finding.
/// - Known code-execution, import, file and network primitives are critical.
/// - Dunder attribute paths (`x.__globals__`) and dotted paths that walk into a dangerous module are critical.
/// - Classes scikit-learn itself defines (a generated list, `Scripts/generate_sklearn_classes.py`) are accepted, so
///   ordinary `joblib.dump`s pass; what a sklearn module merely imports is not.
/// - Everything else is high: a deny-list of Python callables cannot be complete (`_osx_support._read_output`,
///   `logging.config.dictConfig` run commands), so the default policy refuses any global outside the allow-list.
enum GlobalPolicy {
    /// The verdict for one global.
    enum Verdict: Equatable {
        case allowed
        case dangerous
        case unknown
    }

    /// Modules whose every member is dangerous (a module matches itself and its submodules).
    static let dangerousModules: Set<String> = [
        "os", "posix", "nt", "posixpath", "ntpath", "subprocess", "_posixsubprocess", "sys", "importlib", "imp",
        "zipimport", "marshal", "runpy", "pip", "_pip", "ensurepip", "setuptools", "distutils", "venv", "site",
        "asyncio", "_asyncio", "ctypes", "_ctypes", "socket", "_socket", "socketserver", "ssl", "select",
        "selectors", "webbrowser", "pty", "tty", "shutil", "code", "codeop", "commands", "popen2", "multiprocessing",
        "_multiprocessing", "concurrent", "threading", "_thread", "signal", "pickle", "_pickle", "cPickle",
        "pickletools", "dill", "cloudpickle", "shelve", "dbm", "urllib", "urllib2", "urllib3", "http", "httplib",
        "requests", "httpx", "aiohttp", "ftplib", "smtplib", "telnetlib", "poplib", "imaplib", "nntplib", "xmlrpc",
        "mailcap", "pkgutil", "pydoc", "timeit", "cProfile", "profile", "pdb", "bdb", "trace", "doctest",
        "idlelib", "lib2to3", "io", "_io", "fileinput", "tempfile", "glob", "linecache",
        "sqlite3", "_sqlite3", "gc", "inspect", "zipfile", "tarfile", "platform", "sysconfig", "ast", "dis",
        "compileall", "py_compile",
        "torch.hub", "torch.jit", "torch._C", "torch.utils.cpp_extension", "torch._dynamo", "torch._inductor",
        "torch.cuda", "torch.distributed", "torch.package", "numpy.f2py", "numpy.distutils", "numpy.testing",
        "numpy.lib.npyio", "numpy.ctypeslib", "keras.src.saving", "tensorflow.io", "jinja2", "yaml",
        // A distribution's `__setstate__` runs `exec` on `_parse_arg_template`, text the pickled state carries.
        "scipy.stats",
    ]

    /// Individual dangerous callables in modules that are otherwise not dangerous as a whole.
    static let dangerousNames: Set<String> = [
        "builtins.eval", "builtins.exec", "builtins.compile", "builtins.getattr", "builtins.setattr",
        "builtins.delattr", "builtins.__import__", "builtins.open", "builtins.input", "builtins.breakpoint",
        "builtins.globals", "builtins.locals", "builtins.vars", "builtins.help", "builtins.exit", "builtins.quit",
        "builtins.memoryview", "builtins.type", "builtins.super", "builtins.classmethod", "builtins.staticmethod",
        "builtins.property", "types.FunctionType", "types.CodeType", "types.LambdaType", "types.MethodType",
        "types.ModuleType",
        "operator.attrgetter", "operator.methodcaller", "operator.itemgetter", "operator.call",
        "_operator.attrgetter", "_operator.methodcaller", "_operator.itemgetter", "_operator.call",
        "functools.reduce", "functools.partialmethod", "_functools.partial", "_functools.reduce", "codecs.open",
        "codecs.getreader", "codecs.getwriter", "_codecs.lookup",
        "numpy.load", "numpy.loadtxt", "numpy.fromfile", "numpy.save", "numpy.savetxt", "numpy.memmap",
        "torch.load", "torch.save", "torch.serialization.load", "torch.serialization.save",
        "torch.storage._load_from_bytes", "torch.from_file", "torch.ops.load_library",
        "collections.UserDict", "copyreg.__newobj_ex__", "copy.deepcopy",
        "joblib.load", "joblib.dump", "joblib.numpy_pickle.load", "joblib.numpy_pickle.NDArrayWrapper",
    ]

    /// Reconstructors that ordinary PyTorch, numpy, joblib and Python containers pickle; documented in README.
    static let allowed: Set<String> = {
        var names: Set<String> = [
            // PyTorch tensors, parameters and storages.
            "torch._utils._rebuild_tensor", "torch._utils._rebuild_tensor_v2", "torch._utils._rebuild_tensor_v3",
            "torch._utils._rebuild_parameter", "torch._utils._rebuild_parameter_with_state",
            "torch._utils._rebuild_qtensor", "torch._utils._rebuild_sparse_tensor",
            "torch._utils._rebuild_nested_tensor", "torch._utils._rebuild_meta_tensor_no_storage",
            "torch._utils._rebuild_device_tensor_from_numpy", "torch._utils._rebuild_wrapper_subclass",
            "torch._utils._rebuild_device_tensor_from_cpu_tensor", "torch._tensor._rebuild_from_type_v2",
            "torch._tensor._rebuild_from_type", "torch.nn.parameter.Parameter", "torch.nn.parameter.Buffer",
            "torch.Tensor", "torch.Size", "torch.device", "torch.storage.UntypedStorage", "torch.UntypedStorage",
            "torch.storage.TypedStorage", "torch.TypedStorage", "torch.serialization._get_layout", "torch.strided",
            "torch.sparse_coo", "torch.sparse_csr", "torch.sparse_csc", "torch.sparse_bsr", "torch.sparse_bsc",
            "torch.per_tensor_affine", "torch.per_channel_affine", "torch.per_tensor_symmetric",
            "torch.per_channel_symmetric", "torch.per_channel_affine_float_qparams", "torch.contiguous_format",
            "torch.channels_last", "torch.preserve_format",
            // numpy arrays, scalars and dtypes.
            "numpy.core.multiarray._reconstruct", "numpy._core.multiarray._reconstruct", "numpy.ndarray",
            "numpy.dtype", "numpy.core.multiarray.scalar", "numpy._core.multiarray.scalar",
            "numpy.core.numeric._frombuffer", "numpy._core.numeric._frombuffer",
            "numpy.random._pickle.__randomstate_ctor", "numpy.random._pickle.__bit_generator_ctor",
            "numpy.random._pickle.__generator_ctor", "numpy.random.mtrand.RandomState",
            "numpy.random._generator.Generator", "numpy.random._mt19937.MT19937", "numpy.random._pcg64.PCG64",
            "numpy.random._pcg64.PCG64DXSM", "numpy.random._philox.Philox", "numpy.random._sfc64.SFC64",
            // What fitted scikit-learn models pickle besides their own classes (scanner review 12, false positives
            // on joblib dumps of gradient boosting, k-neighbours, grid search, spline and text models): a seed
            // sequence (Cython's unpickler makes the named class and sets its state), masked arrays, numpy scalar
            // types, scipy splines and sparse matrices, and the k-d/ball tree `newObj(cls)` = `cls.__new__(cls)`
            // (its argument is a global judged on its own).
            "numpy.random.bit_generator.SeedSequence", "numpy.random.bit_generator.__pyx_unpickle_SeedSequence",
            "numpy.ma.core._mareconstruct", "numpy.ma.core.MaskedArray", "numpy.ma.MaskedArray",
            // An ndarray subclass (scanner review 35: `np.matrix` dumps were refused); a string argument is parsed
            // with ast.literal_eval.
            "numpy.matrix", "numpy.matrixlib.defmatrix.matrix",
            // Likewise numpy's record arrays and the record type of their dtype (scanner review 66: `joblib.dump` of
            // `np.rec.array(...)` was refused). Neither may be called (see `arrayCoercingCallables`).
            "numpy.rec.recarray", "numpy.recarray", "numpy.record",
            "scipy.interpolate._bsplines.BSpline", "scipy._lib.array_api_compat.numpy._aliases.asarray",
            "sklearn.neighbors._kd_tree.newObj", "sklearn.neighbors._ball_tree.newObj",
            "sklearn.metrics._dist_metrics.newObj",
            // Functions that fitted scikit-learn models hold as hyperparameters or attributes, so every dump of
            // them names one (univariate feature selection's score functions, FeatureAgglomeration's pooling
            // function, BisectingKMeans' inner k-means): each computes on arrays and imports or runs nothing else.
            "sklearn.feature_selection._univariate_selection.f_classif",
            "sklearn.feature_selection._univariate_selection.f_regression",
            "sklearn.feature_selection._univariate_selection.f_oneway",
            "sklearn.feature_selection._univariate_selection.chi2",
            "sklearn.feature_selection._univariate_selection.r_regression",
            "sklearn.feature_selection._mutual_info.mutual_info_classif",
            "sklearn.feature_selection._mutual_info.mutual_info_regression",
            "sklearn.cluster._kmeans._kmeans_single_lloyd", "sklearn.cluster._kmeans._kmeans_single_elkan",
            // HistGradientBoosting with categorical features holds `FunctionTransformer(partial(check_array, …))`.
            // `partial(f)` calls nothing: its state is checked at BUILD, and calling it (or `check_array`, which
            // coerces its argument to an array) is high in the pickle interpreter.
            "functools.partial", "sklearn.utils.validation.check_array",
            // Only reductions that divide: `numpy.max([C])` or `numpy.sum([C])` return `C` itself, which would turn
            // any global into a call result that a `BUILD` could change unseen (scanner review 14).
            "numpy.mean", "numpy.median", "numpy.average", "numpy.std", "numpy.var", "numpy.nanmean",
            "numpy.nanmedian",
            // joblib's inline array wrapper (its bytes are read, never executed).
            "joblib.numpy_pickle.NumpyArrayWrapper",
            // Python containers and plain values.
            "collections.OrderedDict", "collections.defaultdict", "collections.deque", "collections.Counter",
            "builtins.set", "builtins.frozenset", "builtins.list", "builtins.dict", "builtins.tuple",
            "builtins.bytearray", "builtins.bytes", "builtins.complex", "builtins.slice", "builtins.range",
            "builtins.bool", "builtins.int", "builtins.float", "builtins.str", "copyreg._reconstructor",
            // Protocols 0 and 1 pickle an instance as `copyreg._reconstructor(cls, object, None)`; `object()` takes no
            // argument and its instances no attribute.
            "builtins.object",
            // numpy's abstract scalar types, which `make_column_selector(dtype_include=numpy.number)` holds; none
            // can be instantiated.
            "numpy.number", "numpy.integer", "numpy.signedinteger", "numpy.unsignedinteger", "numpy.inexact",
            "numpy.floating", "numpy.complexfloating", "numpy.generic", "numpy.flexible", "numpy.character",
            "_codecs.encode", "datetime.datetime", "datetime.date", "datetime.time", "datetime.timedelta",
            "datetime.timezone", "decimal.Decimal", "fractions.Fraction",
        ]
        // numpy's ufuncs, as `FunctionTransformer(numpy.log1p)` and `TransformedTargetRegressor(func=numpy.log1p,
        // inverse_func=numpy.expm1)` hold them: values only; called, they are high (see `PickleInterpreter.call`).
        names.formUnion(numpyUfuncs)
        names.formUnion(scipySparseClasses)
        names.formUnion(sklearnScoreFunctions)
        for storage in [
            "Double", "Float", "Half", "BFloat16", "Long", "Int", "Short", "Char", "Byte", "Bool", "ComplexDouble",
            "ComplexFloat", "QUInt8", "QInt8", "QInt32", "QUInt4x2", "QUInt2x4",
        ] {
            names.insert("torch.\(storage)Storage")
            names.insert("torch.storage.\(storage)Storage")
            names.insert("torch.cuda.\(storage)Storage")
        }
        for scalar in [
            "float16", "float32", "float64", "longdouble", "int8", "int16", "int32", "int64", "uint8", "uint16",
            "uint32", "uint64", "bool_", "bool", "complex64", "complex128", "str_", "bytes_", "object_", "datetime64",
            "timedelta64",
        ] {
            names.insert("numpy.\(scalar)")
        }
        for dtype in [
            "float32", "float", "float64", "double", "float16", "half", "bfloat16", "int8", "uint8", "int16",
            "short", "int32", "int", "int64", "long", "bool", "complex32", "complex64", "cfloat", "complex128",
            "cdouble", "qint8", "quint8", "qint32", "quint4x2", "quint2x4", "uint16", "uint32", "uint64",
            "float8_e4m3fn", "float8_e5m2", "float8_e4m3fnuz", "float8_e5m2fnuz",
        ] {
            names.insert("torch.\(dtype)")
        }
        return names
    }()

    /// numpy's ufuncs as pickle writes them (`numpy.<ufunc.__name__>`, numpy 2), generated from `dir(numpy)`. Each
    /// coerces its arguments to arrays when called, and with an `out` argument returns it.
    static let numpyUfuncs: Set<String> = Set(
        [
            "absolute", "add", "arccos", "arccosh", "arcsin", "arcsinh", "arctan", "arctan2", "arctanh",
            "bitwise_and", "bitwise_count", "bitwise_or", "bitwise_xor", "cbrt", "ceil", "conjugate", "copysign",
            "cos", "cosh", "deg2rad", "degrees", "divide", "divmod", "equal", "exp", "exp2", "expm1", "fabs",
            "float_power", "floor", "floor_divide", "fmax", "fmin", "fmod", "frexp", "gcd", "greater",
            "greater_equal", "heaviside", "hypot", "invert", "isfinite", "isinf", "isnan", "isnat", "lcm", "ldexp",
            "left_shift", "less", "less_equal", "log", "log10", "log1p", "log2", "logaddexp", "logaddexp2",
            "logical_and", "logical_not", "logical_or", "logical_xor", "matmul", "matvec", "maximum", "minimum",
            "modf", "multiply", "negative", "nextafter", "not_equal", "positive", "power", "rad2deg", "radians",
            "reciprocal", "remainder", "right_shift", "rint", "sign", "signbit", "sin", "sinh", "spacing", "sqrt",
            "square", "subtract", "tan", "tanh", "trunc", "vecdot", "vecmat",
        ].map { "numpy." + $0 })

    /// The score functions scikit-learn's named scorers hold (`_score_func` of `get_scorer(name)` for every name,
    /// scikit-learn 1.9.1): a fitted `GridSearchCV(scoring="f1")` pickles one. Values only; called, high.
    static let sklearnScoreFunctions: Set<String> = [
        "sklearn.metrics._classification.accuracy_score",
        "sklearn.metrics._classification.balanced_accuracy_score",
        "sklearn.metrics._classification.brier_score_loss",
        "sklearn.metrics._classification.d2_brier_score",
        "sklearn.metrics._classification.d2_log_loss_score",
        "sklearn.metrics._classification.f1_score",
        "sklearn.metrics._classification.jaccard_score",
        "sklearn.metrics._classification.log_loss",
        "sklearn.metrics._classification.matthews_corrcoef",
        "sklearn.metrics._classification.precision_score",
        "sklearn.metrics._classification.recall_score",
        "sklearn.metrics._ranking.average_precision_score",
        "sklearn.metrics._ranking.roc_auc_score",
        "sklearn.metrics._ranking.top_k_accuracy_score",
        "sklearn.metrics._regression.d2_absolute_error_score",
        "sklearn.metrics._regression.explained_variance_score",
        "sklearn.metrics._regression.max_error",
        "sklearn.metrics._regression.mean_absolute_error",
        "sklearn.metrics._regression.mean_absolute_percentage_error",
        "sklearn.metrics._regression.mean_gamma_deviance",
        "sklearn.metrics._regression.mean_poisson_deviance",
        "sklearn.metrics._regression.mean_squared_error",
        "sklearn.metrics._regression.mean_squared_log_error",
        "sklearn.metrics._regression.median_absolute_error",
        "sklearn.metrics._regression.r2_score",
        "sklearn.metrics._regression.root_mean_squared_error",
        "sklearn.metrics._regression.root_mean_squared_log_error",
        "sklearn.metrics._scorer.negative_likelihood_ratio",
        "sklearn.metrics._scorer.positive_likelihood_ratio",
        "sklearn.metrics.cluster._supervised.adjusted_mutual_info_score",
        "sklearn.metrics.cluster._supervised.adjusted_rand_score",
        "sklearn.metrics.cluster._supervised.completeness_score",
        "sklearn.metrics.cluster._supervised.fowlkes_mallows_score",
        "sklearn.metrics.cluster._supervised.homogeneity_score",
        "sklearn.metrics.cluster._supervised.mutual_info_score",
        "sklearn.metrics.cluster._supervised.normalized_mutual_info_score",
        "sklearn.metrics.cluster._supervised.rand_score",
        "sklearn.metrics.cluster._supervised.v_measure_score",
    ]

    /// scipy's sparse matrix and array classes, every format. Pickles make them with `cls.__new__(cls)` (NEWOBJ) or
    /// `copyreg._reconstructor` and set their state; calling one with arguments coerces them to arrays, which the
    /// pickle interpreter refuses.
    static let scipySparseClasses: Set<String> = Set(
        ["bsr", "coo", "csc", "csr", "dia", "dok", "lil"].flatMap { format in
            ["matrix", "array"].map { kind in "scipy.sparse._\(format).\(format)_\(kind)" }
        })

    /// Modules that a dotted attribute path must never walk into (`pkg.sub.os.system`).
    static let dangerousAttributeRoots: Set<String> = [
        "os", "posix", "nt", "subprocess", "sys", "builtins", "__builtins__", "importlib", "marshal", "runpy",
        "ctypes", "socket", "shutil", "pty", "pickle", "asyncio", "pip", "webbrowser", "eval", "exec", "system",
        "popen", "getattr", "__import__", "import_module",
    ]

    /// Python 2 module names that protocols 0–2 map to Python 3 ones on load (`fix_imports`): exactly
    /// Lib/_compat_pickle.py IMPORT_MAPPING (CPython 3.11). A module not in it (`exceptions`, `popen2`) is imported
    /// by its own name, which a module planted on `sys.path` answers (scanner review 32): it is judged so.
    static let python2Modules: [String: String] = [
        "BaseHTTPServer": "http.server", "CGIHTTPServer": "http.server", "ConfigParser": "configparser",
        "Cookie": "http.cookies", "Dialog": "tkinter.dialog", "DocXMLRPCServer": "xmlrpc.server",
        "FileDialog": "tkinter.filedialog", "HTMLParser": "html.parser", "Queue": "queue",
        "ScrolledText": "tkinter.scrolledtext", "SimpleDialog": "tkinter.simpledialog",
        "SimpleHTTPServer": "http.server", "SimpleXMLRPCServer": "xmlrpc.server", "SocketServer": "socketserver",
        "StringIO": "io", "Tix": "tkinter.tix", "Tkconstants": "tkinter.constants", "Tkdnd": "tkinter.dnd",
        "Tkinter": "tkinter", "UserDict": "collections", "UserList": "collections", "UserString": "collections",
        "__builtin__": "builtins", "_abcoll": "collections.abc", "_elementtree": "xml.etree.ElementTree",
        "_winreg": "winreg", "anydbm": "dbm", "cPickle": "pickle", "cStringIO": "io", "commands": "subprocess",
        "cookielib": "http.cookiejar", "copy_reg": "copyreg", "dbhash": "dbm.bsd", "dbm": "dbm.ndbm",
        "dumbdbm": "dbm.dumb", "dummy_thread": "_dummy_thread", "gdbm": "dbm.gnu", "htmlentitydefs": "html.entities",
        "httplib": "http.client", "markupbase": "_markupbase", "repr": "reprlib",
        "robotparser": "urllib.robotparser", "test.test_support": "test.support", "thread": "_thread",
        "tkColorChooser": "tkinter.colorchooser", "tkCommonDialog": "tkinter.commondialog",
        "tkFileDialog": "tkinter.filedialog", "tkFont": "tkinter.font", "tkMessageBox": "tkinter.messagebox",
        "tkSimpleDialog": "tkinter.simpledialog", "ttk": "tkinter.ttk", "urllib2": "urllib.request",
        "urlparse": "urllib.parse", "whichdb": "dbm", "xmlrpclib": "xmlrpc.client",
    ]

    /// Python 2 `module.name` pairs mapped as a whole (Lib/_compat_pickle.py NAME_MAPPING), before module mapping.
    static let python2Names: [String: (String, String)] = [
        "UserDict.IterableUserDict": ("collections", "UserDict"), "UserDict.UserDict": ("collections", "UserDict"),
        "UserList.UserList": ("collections", "UserList"), "UserString.UserString": ("collections", "UserString"),
        "__builtin__.basestring": ("builtins", "str"), "__builtin__.intern": ("sys", "intern"),
        "__builtin__.long": ("builtins", "int"), "__builtin__.reduce": ("functools", "reduce"),
        "__builtin__.unichr": ("builtins", "chr"), "__builtin__.unicode": ("builtins", "str"),
        "__builtin__.xrange": ("builtins", "range"),
        "_multiprocessing.Connection": ("multiprocessing.connection", "Connection"),
        "_socket.fromfd": ("socket", "fromfd"), "exceptions.ArithmeticError": ("builtins", "ArithmeticError"),
        "exceptions.AssertionError": ("builtins", "AssertionError"),
        "exceptions.AttributeError": ("builtins", "AttributeError"),
        "exceptions.BaseException": ("builtins", "BaseException"),
        "exceptions.BufferError": ("builtins", "BufferError"),
        "exceptions.BytesWarning": ("builtins", "BytesWarning"),
        "exceptions.DeprecationWarning": ("builtins", "DeprecationWarning"),
        "exceptions.EOFError": ("builtins", "EOFError"),
        "exceptions.EnvironmentError": ("builtins", "EnvironmentError"),
        "exceptions.Exception": ("builtins", "Exception"),
        "exceptions.FloatingPointError": ("builtins", "FloatingPointError"),
        "exceptions.FutureWarning": ("builtins", "FutureWarning"),
        "exceptions.GeneratorExit": ("builtins", "GeneratorExit"), "exceptions.IOError": ("builtins", "IOError"),
        "exceptions.ImportError": ("builtins", "ImportError"),
        "exceptions.ImportWarning": ("builtins", "ImportWarning"),
        "exceptions.IndentationError": ("builtins", "IndentationError"),
        "exceptions.IndexError": ("builtins", "IndexError"), "exceptions.KeyError": ("builtins", "KeyError"),
        "exceptions.KeyboardInterrupt": ("builtins", "KeyboardInterrupt"),
        "exceptions.LookupError": ("builtins", "LookupError"), "exceptions.MemoryError": ("builtins", "MemoryError"),
        "exceptions.NameError": ("builtins", "NameError"),
        "exceptions.NotImplementedError": ("builtins", "NotImplementedError"),
        "exceptions.OSError": ("builtins", "OSError"), "exceptions.OverflowError": ("builtins", "OverflowError"),
        "exceptions.PendingDeprecationWarning": ("builtins", "PendingDeprecationWarning"),
        "exceptions.ReferenceError": ("builtins", "ReferenceError"),
        "exceptions.RuntimeError": ("builtins", "RuntimeError"),
        "exceptions.RuntimeWarning": ("builtins", "RuntimeWarning"),
        "exceptions.StandardError": ("builtins", "Exception"),
        "exceptions.StopIteration": ("builtins", "StopIteration"),
        "exceptions.SyntaxError": ("builtins", "SyntaxError"),
        "exceptions.SyntaxWarning": ("builtins", "SyntaxWarning"),
        "exceptions.SystemError": ("builtins", "SystemError"), "exceptions.SystemExit": ("builtins", "SystemExit"),
        "exceptions.TabError": ("builtins", "TabError"), "exceptions.TypeError": ("builtins", "TypeError"),
        "exceptions.UnboundLocalError": ("builtins", "UnboundLocalError"),
        "exceptions.UnicodeDecodeError": ("builtins", "UnicodeDecodeError"),
        "exceptions.UnicodeEncodeError": ("builtins", "UnicodeEncodeError"),
        "exceptions.UnicodeError": ("builtins", "UnicodeError"),
        "exceptions.UnicodeTranslateError": ("builtins", "UnicodeTranslateError"),
        "exceptions.UnicodeWarning": ("builtins", "UnicodeWarning"),
        "exceptions.UserWarning": ("builtins", "UserWarning"), "exceptions.ValueError": ("builtins", "ValueError"),
        "exceptions.Warning": ("builtins", "Warning"),
        "exceptions.ZeroDivisionError": ("builtins", "ZeroDivisionError"),
        "itertools.ifilter": ("builtins", "filter"), "itertools.ifilterfalse": ("itertools", "filterfalse"),
        "itertools.imap": ("builtins", "map"), "itertools.izip": ("builtins", "zip"),
        "itertools.izip_longest": ("itertools", "zip_longest"),
        "multiprocessing.AuthenticationError": ("multiprocessing.context", "AuthenticationError"),
        "multiprocessing.BufferTooShort": ("multiprocessing.context", "BufferTooShort"),
        "multiprocessing.ProcessError": ("multiprocessing.context", "ProcessError"),
        "multiprocessing.TimeoutError": ("multiprocessing.context", "TimeoutError"),
        "multiprocessing.forking.Popen": ("multiprocessing.popen_fork", "Popen"),
        "multiprocessing.process.Process": ("multiprocessing.context", "Process"),
        "socket._socketobject": ("socket", "SocketType"),
        "urllib.ContentTooShortError": ("urllib.error", "ContentTooShortError"),
        "urllib.getproxies": ("urllib.request", "getproxies"),
        "urllib.pathname2url": ("urllib.request", "pathname2url"), "urllib.quote": ("urllib.parse", "quote"),
        "urllib.quote_plus": ("urllib.parse", "quote_plus"), "urllib.unquote": ("urllib.parse", "unquote"),
        "urllib.unquote_plus": ("urllib.parse", "unquote_plus"),
        "urllib.url2pathname": ("urllib.request", "url2pathname"),
        "urllib.urlcleanup": ("urllib.request", "urlcleanup"), "urllib.urlencode": ("urllib.parse", "urlencode"),
        "urllib.urlopen": ("urllib.request", "urlopen"), "urllib.urlretrieve": ("urllib.request", "urlretrieve"),
        "urllib2.HTTPError": ("urllib.error", "HTTPError"), "urllib2.URLError": ("urllib.error", "URLError"),
        "whichdb.whichdb": ("dbm", "whichdb"),
    ]

    /// The module and name `find_class` imports, after Python 2 fix-ups in `_compat_pickle`'s order (a whole-name
    /// mapping first, else the module's). CPython applies them only while the protocol in effect (the last PROTO's
    /// argument, 0 before any) is below 3: from protocol 3 on `copy_reg`, `__builtin__` or `exceptions` is imported
    /// as written, from whatever module of that name is on `sys.path` (scanner review 32).
    static func normalised(module: String, name: String, protocol proto: Int) -> (module: String, name: String) {
        guard proto < 3 else { return (module, name) }
        if let mapped = python2Names[module + "." + name] { return mapped }
        return (python2Modules[module] ?? module, name)
    }

    /// Judges `module.name` as imported under `protocol` (see `normalised`).
    static func verdict(module rawModule: String, name rawName: String, protocol proto: Int) -> Verdict {
        let (module, name) = normalised(module: rawModule, name: rawName, protocol: proto)
        let qualified = module + "." + name
        if allowed.contains(qualified) { return .allowed }
        if dangerousNames.contains(qualified) { return .dangerous }
        let moduleParts = module.split(separator: ".", omittingEmptySubsequences: false)
        for end in 1...moduleParts.count where dangerousModules.contains(moduleParts[0..<end].joined(separator: ".")) {
            return .dangerous
        }
        if module.isEmpty || name.isEmpty { return .dangerous }
        let nameParts = name.split(separator: ".", omittingEmptySubsequences: false)
        // Any dunder component walks into interpreter internals (`f.__globals__`, `C.__subclasses__`).
        if nameParts.contains(where: { $0.hasPrefix("__") && $0.hasSuffix("__") && $0.count > 4 }) {
            return .dangerous
        }
        if nameParts.contains(where: { $0.isEmpty || $0 == "<locals>" }) { return .dangerous }
        // A dotted name reaches attributes of attributes; through a module like `os` that is a bypass.
        for part in (moduleParts.dropFirst() + nameParts.dropLast())
        where dangerousAttributeRoots.contains(String(part)) {
            return .dangerous
        }
        if nameParts.count > 1, dangerousAttributeRoots.contains(String(nameParts.last!)) { return .dangerous }
        if isTrustedEstimatorClass(module: module, name: name) { return .allowed }
        return .unknown
    }

    /// scikit-learn estimators and their parts, which every `joblib.dump` of a model names: only classes sklearn
    /// itself defines, from a generated list. Any capitalised name in a sklearn module also matched what that
    /// module imports (gzip.GzipFile, multiprocessing's Client, torch via array_api_compat: review 5, F1).
    static func isTrustedEstimatorClass(module: String, name: String) -> Bool {
        sklearnDefinedClasses.contains("\(module).\(name)")
    }
}
