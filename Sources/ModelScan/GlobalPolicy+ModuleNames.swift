/// Top-level module names a standard Python installation imports, for judging an import that only `pickle.load`
/// makes of a joblib file (see ``GlobalPolicy/isUncommonTopLevelModule(_:)``).
extension GlobalPolicy {
    /// CPython 3.8–3.14's standard library and built-in modules without a leading underscore
    /// (`sys.stdlib_module_names` of 3.11, plus what earlier versions removed and later ones added).
    static let standardLibraryModules: Set<String> = [
        "abc", "aifc", "annotationlib", "antigravity", "argparse", "array", "ast", "asynchat", "asyncio",
        "asyncore", "atexit", "audioop", "base64", "bdb", "binascii", "binhex", "bisect", "builtins", "bz2",
        "cProfile", "calendar", "cgi", "cgitb", "chunk", "cmath", "cmd", "code", "codecs", "codeop", "collections",
        "colorsys", "compileall", "compression", "concurrent", "configparser", "contextlib", "contextvars", "copy",
        "copyreg", "crypt", "csv", "ctypes", "curses", "dataclasses", "datetime", "dbm", "decimal", "difflib",
        "dis", "distutils", "doctest", "dummy_threading", "email", "encodings", "ensurepip", "enum", "errno",
        "faulthandler", "fcntl", "filecmp", "fileinput", "fnmatch", "formatter", "fractions", "ftplib", "functools",
        "gc", "genericpath", "getopt", "getpass", "gettext", "glob", "graphlib", "grp", "gzip", "hashlib", "heapq",
        "hmac", "html", "http", "idlelib", "imaplib", "imghdr", "imp", "importlib", "inspect", "io", "ipaddress",
        "itertools", "json", "keyword", "lib2to3", "linecache", "locale", "logging", "lzma", "macpath", "mailbox",
        "mailcap", "marshal", "math", "mimetypes", "mmap", "modulefinder", "msilib", "msvcrt", "multiprocessing",
        "netrc", "nis", "nntplib", "nt", "ntpath", "nturl2path", "numbers", "opcode", "operator", "optparse", "os",
        "ossaudiodev", "parser", "pathlib", "pdb", "pickle", "pickletools", "pipes", "pkgutil", "platform",
        "plistlib", "poplib", "posix", "posixpath", "pprint", "profile", "pstats", "pty", "pwd", "py_compile",
        "pyclbr", "pydoc", "pydoc_data", "pyexpat", "queue", "quopri", "random", "re", "readline", "reprlib",
        "resource", "rlcompleter", "runpy", "sched", "secrets", "select", "selectors", "shelve", "shlex", "shutil",
        "signal", "site", "smtpd", "smtplib", "sndhdr", "socket", "socketserver", "spwd", "sqlite3", "sre_compile",
        "sre_constants", "sre_parse", "ssl", "stat", "statistics", "string", "stringprep", "struct", "subprocess",
        "sunau", "symbol", "symtable", "sys", "sysconfig", "syslog", "tabnanny", "tarfile", "telnetlib", "tempfile",
        "termios", "textwrap", "this", "threading", "time", "timeit", "tkinter", "token", "tokenize", "tomllib",
        "trace", "traceback", "tracemalloc", "tty", "turtle", "turtledemo", "types", "typing", "unicodedata",
        "unittest", "urllib", "uu", "uuid", "venv", "warnings", "wave", "weakref", "webbrowser", "winreg",
        "winsound", "wsgiref", "xdrlib", "xml", "xmlrpc", "xxsubtype", "zipapp", "zipfile", "zipimport", "zlib",
        "zoneinfo",
    ]

    /// Python 2 module names that old pickles carry (`_compat_pickle`'s and those it leaves unmapped), and
    /// `__main__`, the loading program's own namespace.
    static let python2AndMainModules: Set<String> = [
        "BaseHTTPServer", "CGIHTTPServer", "ConfigParser", "Cookie", "DocXMLRPCServer", "HTMLParser", "Queue",
        "SimpleHTTPServer", "SimpleXMLRPCServer", "SocketServer", "StringIO", "Tkinter", "UserDict", "UserList",
        "UserString", "__builtin__", "__main__", "anydbm", "cPickle", "cProfile", "cStringIO", "commands",
        "cookielib", "copy_reg", "dbhash", "dbm", "dircache", "dumbdbm", "exceptions", "future_builtins", "gdbm",
        "htmlentitydefs", "htmllib", "httplib", "itertools", "markupbase", "md5", "mimetools", "multifile", "mutex",
        "new", "popen2", "repr", "rfc822", "robotparser", "sets", "sgmllib", "sha", "statvfs", "string", "thread",
        "tkMessageBox", "ttk", "types", "urllib2", "urlparse", "user", "whichdb", "xmlrpclib",
    ]

    /// Packages found on most machines that load models (the scientific stack, ML frameworks, their tooling and
    /// common dependencies): importing one of these is possible anywhere, so it is judged as any other global.
    static let commonPackages: Set<String> = [
        "Cython", "IPython", "OpenSSL", "PIL", "absl", "accelerate", "aiohttp", "aiosignal", "ansible", "anyio",
        "astunparse", "attr", "attrs", "azure", "blosc", "boto3", "botocore", "brotli", "bs4", "catboost", "celery",
        "certifi", "charset_normalizer", "click", "cloudpickle", "colorama", "conda", "conda_env", "cryptography",
        "cv2", "cython", "dask", "datasets", "debugpy", "dill", "distributed", "django", "docker", "duckdb",
        "fabric", "fastapi", "fickling", "filelock", "flask", "flax", "frozenlist", "fsspec", "gast", "gensim",
        "google", "google_crypt", "grpc", "gunicorn", "h11", "h5py", "httpcore", "httpx", "huggingface_hub", "idna",
        "invoke", "ipykernel", "jax", "jaxlib", "jinja2", "joblib", "jupyter", "keras", "kubernetes", "lightgbm",
        "llvmlite", "lxml", "lz4", "mamba", "markupsafe", "matplotlib", "mlflow", "modelscan", "mpl_toolkits",
        "mpmath", "msgpack", "multidict", "nacl", "networkx", "nltk", "notebook", "numba", "numpy", "onnx",
        "onnxruntime", "opt_einsum", "orjson", "packaging", "pandas", "paramiko", "pexpect", "picklescan", "pip",
        "pipx", "pkg_resources", "pluggy", "plumbum", "poetry", "polars", "protobuf", "psutil", "psycopg2",
        "ptyprocess", "pwn", "pwnlib", "py", "pyarrow", "pydantic", "pygments", "pymysql", "pytest", "pyximport",
        "ray", "redis", "regex", "requests", "rich", "s3transfer", "safetensors", "scipy", "seaborn",
        "sentencepiece", "setuptools", "sh", "simplejson", "six", "sklearn", "snappy", "sniffio", "spacy",
        "sqlalchemy", "starlette", "statsmodels", "sympy", "tabulate", "tensorflow", "termcolor", "tf_keras",
        "threadpoolctl", "tokenizers", "toml", "tomli", "torch", "torchaudio", "torchvision", "tornado", "tqdm",
        "traitlets", "transformers", "triton", "tritonclient", "typing_extensions", "ujson", "urllib3", "uvicorn",
        "venv", "virtualenv", "wandb", "websockets", "werkzeug", "wheel", "wrapt", "xgboost", "yaml", "yarl", "zmq",
        "zstandard",
    ]

    /// True when `module` is one dotless identifier, without a leading underscore, that is neither a standard
    /// library module, a Python 2 or `__main__` name, nor a common package: on an ordinary machine
    /// `import module` fails (`ModuleNotFoundError`) before anything runs, unless a module of that name has been
    /// put on the loader's path (its working directory, for one).
    static func isUncommonTopLevelModule(_ module: String) -> Bool {
        let bytes = Array(module.utf8)
        guard let first = bytes.first, bytes.count <= 64, first != UInt8(ascii: "_"),
            !(UInt8(ascii: "0")...UInt8(ascii: "9")).contains(first),
            bytes.allSatisfy({ $0 == UInt8(ascii: "_") || isASCIILetterOrDigit($0) })
        else { return false }
        return !standardLibraryModules.contains(module) && !python2AndMainModules.contains(module)
            && !commonPackages.contains(module) && python2Modules[module] == nil
            && !python2Names.keys.contains { $0.hasPrefix(module + ".") }
    }

    private static func isASCIILetterOrDigit(_ byte: UInt8) -> Bool {
        (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte) || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte)
            || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
    }
}
