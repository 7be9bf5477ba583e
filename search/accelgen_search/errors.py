"""Bad input: the CLI prints one line naming the field and exits with status 2."""


class SpecError(Exception):
    def __init__(self, where: str, message: str):
        super().__init__(f"{where}: {message}")
        self.where = where
