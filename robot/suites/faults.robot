*** Settings ***
Documentation       Faults between devices and the gateway, in the gateway, and in the board:
...                 each is survived and the device is Connected again afterwards.
Resource            ../resources/wasmbed.resource
Suite Setup         Start Suite
Suite Teardown      Stop Suite
Test Teardown       End Test


*** Test Cases ***
Board Survives A Network Partition
    [Tags]    board    fault
    Start Connected Board    fw-partition
    Inject Network Fault    partition    device=fw-partition    seconds=6
    Wait For Line On Uart    wasmbed: disconnected
    Wait For Line On Uart    wasmbed: connected id=fw-partition
    Device Should Be Connected    fw-partition

Virtual Device Survives A Gateway Crash
    [Tags]    virtual    fault
    Create Device    vdev-crash
    Enroll Device    vdev-crash
    Device Should Be Connected    vdev-crash
    Inject Process Fault    kill    gateway
    Device Should Be In Phase    vdev-crash    Disconnected    timeout=30
    Inject Process Fault    restart    gateway
    Device Should Be Connected    vdev-crash

Virtual Device Rides Out Latency
    [Tags]    virtual    fault
    Create Device    vdev-slow
    Enroll Device    vdev-slow
    Inject Network Fault    latency    ms=300
    Deploy Application    hello-slow    hello    vdev-slow
    Application Phase On Device Should Be    hello-slow    vdev-slow    Completed    timeout=60
    [Teardown]    Run Keywords    Clear Network Faults    AND    End Test

Revoked Device Is Cut Off
    [Tags]    virtual    fault
    Create Device    vdev-revoked
    Enroll Device    vdev-revoked
    Device Should Be Connected    vdev-revoked
    Revoke Device    vdev-revoked
    Device Should Be In Phase    vdev-revoked    Revoked
