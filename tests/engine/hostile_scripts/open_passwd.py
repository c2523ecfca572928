# expect: static
x = open('/etc/passwd').read()
