import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import { ApiKeyGuard } from '../auth/api-key.guard';
import { CreateDestinationDto, DestinationView, UpdateDestinationDto } from './destination.dto';
import { DestinationService } from './destination.service';

@ApiTags('destinations')
@ApiBearerAuth()
@UseGuards(ApiKeyGuard)
@Controller('api/destinations')
export class DestinationController {
  constructor(private readonly destinations: DestinationService) {}

  /** The answer carries the signing secret: the only time it is shown. */
  @Post()
  async create(@Body() dto: CreateDestinationDto): Promise<DestinationView> {
    const { entity, secret } = await this.destinations.create(dto);
    return this.destinations.view(entity, secret);
  }

  @Get()
  async list(): Promise<DestinationView[]> {
    return (await this.destinations.list()).map((d) => this.destinations.view(d));
  }

  @Get(':id')
  async get(@Param('id') id: string): Promise<DestinationView> {
    return this.destinations.view(await this.destinations.get(id));
  }

  @Patch(':id')
  async update(@Param('id') id: string, @Body() dto: UpdateDestinationDto): Promise<DestinationView> {
    return this.destinations.view(await this.destinations.update(id, dto));
  }

  /** Issues a new secret; the previous one keeps signing for 24 h so receivers can roll over. */
  @Post(':id/rotate-secret')
  @HttpCode(200)
  async rotate(@Param('id') id: string): Promise<DestinationView> {
    const { entity, secret } = await this.destinations.rotateSecret(id);
    return this.destinations.view(entity, secret);
  }

  @Delete(':id')
  @HttpCode(204)
  async remove(@Param('id') id: string): Promise<void> {
    await this.destinations.remove(id);
  }
}
