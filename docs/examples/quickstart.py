"""Create, reboot and destroy a node on the embedded dummy cloud."""

from twisted.internet.defer import Deferred
from twisted.internet.task import react

from txcloud.compute.providers import get_driver
from txcloud.compute.types import Provider


async def main(reactor: object) -> None:
    driver = get_driver(Provider.DUMMY)("my-key", reactor=reactor)
    size = (await driver.list_sizes())[0]
    image = (await driver.list_images())[0]
    node = await driver.create_node("web-1", size, image)
    await node.reboot()
    running = [n for n in await driver.list_nodes() if n.id == node.id]
    print(running[0].name, running[0].state)
    await node.destroy()


if __name__ == "__main__":
    react(lambda reactor: Deferred.fromCoroutine(main(reactor)))
